import type { PagesBindings } from "./types";

/**
 * The local-only open mode: `npm run dev` passes `wrangler pages dev --binding LOCAL_DEV_KEY=<key>`,
 * a random key of this checkout (kept in .wrangler/local-dev-key). No config file holds it,
 * so no deploy has it. A request is open without Cloudflare Access when, and only when:
 * - its URL host is `localhost`, `127.0.0.1` or `[::1]` (not another machine, nor a
 *   DNS-rebinding page under another name), and
 * - it carries the key: in the `x-local-dev-key` header (curl, scripts), or in the cookie the
 *   address `npm run dev` prints sets (`/?local_dev_key=<key>`; the browser sends it from then on).
 * The host alone cannot tell: a local proxy or tunnel that rewrites `Host` to localhost (nginx's
 * default `proxy_pass`, `ngrok --host-header=rewrite`, `cloudflared --http-host-header`) makes a
 * stranger's request look local, its peer address is this machine's too, and `wrangler pages dev`
 * keeps a `CF-Connecting-IP` the client sent. A key never sent to the browser until it is given,
 * and never to anyone reaching the server through such a proxy, is what they cannot forge.
 */

/** Hosts that only this machine can use: loopback names and addresses (URL hostnames). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const isLoopbackHost = (url: URL) => LOOPBACK_HOSTS.has(url.hostname);

export const LOCAL_DEV_KEY_HEADER = "x-local-dev-key";
/** The query parameter of the address `npm run dev` prints, which sets the cookie. */
export const LOCAL_DEV_KEY_PARAM = "local_dev_key";
/** Keys shorter than this are not honoured: `npm run dev` makes 64 hex digits. */
const MIN_KEY_LENGTH = 32;

/** The key the open mode was asked with, or undefined (not asked, or too short to honour). */
export function localDevKey(env: PagesBindings): string | undefined {
  const key = env.LOCAL_DEV_KEY?.trim();
  if (!key) return undefined;
  if (key.length < MIN_KEY_LENGTH) {
    console.error(`pages: LOCAL_DEV_KEY is shorter than ${MIN_KEY_LENGTH} characters: the local open mode is off`);
    return undefined;
  }
  return key;
}

/**
 * The cookie's name: per port, since a browser sends a host's cookies to every port of it, and
 * two copies of the project on one machine have two keys.
 */
const cookieName = (url: URL) => `local_dev_key_${url.port || (url.protocol === "https:" ? "443" : "80")}`;

const encoder = new TextEncoder();
const digest = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/** In constant time, through digests of equal length. */
async function sameKey(given: string, key: string): Promise<boolean> {
  return crypto.subtle.timingSafeEqual(await digest(given), await digest(key));
}

function cookieOf(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Whether `request` carries `key` (header or cookie). */
export async function carriesKey(request: Request, url: URL, key: string): Promise<boolean> {
  const given = request.headers.get(LOCAL_DEV_KEY_HEADER) ?? cookieOf(request, cookieName(url));
  return given !== undefined && given !== null && (await sameKey(given, key));
}

/**
 * The address `npm run dev` prints (`GET /...?local_dev_key=<key>`): a redirect to the same
 * address without the key, setting the cookie (HttpOnly, SameSite=Strict, for 30 days), or
 * undefined if `url` gives no key or another one.
 */
export async function keyLanding(url: URL, key: string): Promise<Response | undefined> {
  const given = url.searchParams.get(LOCAL_DEV_KEY_PARAM);
  if (given === null || !(await sameKey(given, key))) return undefined;
  const target = new URL(url);
  target.searchParams.delete(LOCAL_DEV_KEY_PARAM);
  return new Response(null, {
    status: 303,
    headers: {
      location: `${target.pathname}${target.search}`,
      "set-cookie": `${cookieName(url)}=${key}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${30 * 24 * 3600}`,
      "cache-control": "no-store",
    },
  });
}
