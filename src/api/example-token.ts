/**
 * The API token `.dev.vars.example` holds. It is public (it is in this repository), so the
 * Worker accepts it only for requests to this machine's loopback names: a Worker deployed,
 * or reached under any other host, with this token configured refuses every request, and
 * tells a caller who sends it how to set a real one.
 */
export const EXAMPLE_API_TOKEN = "dev-token-change-me";

/** Names that reach this machine only (URL hostnames: an IPv6 address keeps its brackets). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Whether `url` names this machine's loopback: what local dev calls, and never a deployed Worker. */
export const isLoopbackUrl = (url: string) => LOOPBACK_HOSTS.has(new URL(url).hostname);

/** Whether the configured token is the example one, on a request it must not open. */
export const exampleTokenRefused = (configured: string | undefined, url: string) =>
  configured === EXAMPLE_API_TOKEN && !isLoopbackUrl(url);

export const EXAMPLE_TOKEN_MESSAGE =
  `the example API token (${EXAMPLE_API_TOKEN}, from .dev.vars.example) is accepted only on localhost, ` +
  "127.0.0.1 and [::1]: set a real one with `npx wrangler secret put API_TOKEN` (e.g. `openssl rand -hex 32`)";
