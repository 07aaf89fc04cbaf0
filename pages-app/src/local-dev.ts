import type { PagesBindings } from "./types";

/** Hosts that only this machine can use: loopback names and addresses (URL hostnames). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const isLoopbackHost = (url: URL) => LOOPBACK_HOSTS.has(url.hostname);

/**
 * Whether the local-only open mode was asked for: `LOCAL_DEV_OPEN=true`, which
 * `npm run dev` passes to `wrangler pages dev` as a binding (it is in no config file,
 * so no deploy has it). It is honoured only for requests whose URL host is a loopback
 * host: a deployed project, or a dev server reached under any other name (another
 * machine, a tunnel, a DNS-rebinding page), is refused, never open.
 */
export const localDevOpenAsked = (env: PagesBindings) => env.LOCAL_DEV_OPEN === "true";
