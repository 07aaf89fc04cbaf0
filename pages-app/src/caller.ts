import { ACCESS_JWT_HEADER, accessSettings, verifyAccessJwt } from "./access";
import { carriesKey, isLoopbackHost, keyLanding, LOCAL_DEV_KEY_HEADER, localDevKey } from "./local-dev";
import { refusal } from "./refusals";
import type { PagesBindings } from "./types";

/** Who is calling, as far as this app could verify it: the key of their create budget and Agents. */
export interface Caller {
  /** `access:<sub>` for a user or service token verified by Cloudflare Access, `local` in local dev. */
  id: string;
}

/** Logged once per isolate: a deployment missing its settings would otherwise log every request. */
const logged = new Set<string>();
function logOnce(message: string): void {
  if (logged.has(message)) return;
  logged.add(message);
  console.error(message);
}

/** The one caller of the local open mode: whoever holds this machine's key. */
export const LOCAL_CALLER: Caller = { id: "local" };

/**
 * The caller of `request`, or the answer to give instead. Fails closed: without the Access
 * settings every request is refused, unless the local-only open mode applies (./local-dev.ts).
 * What is wrong with the settings is logged, and told to the caller only in local mode: a
 * stranger learns nothing about how a deployment is set up.
 */
export async function authenticate(request: Request, url: URL, env: PagesBindings): Promise<Caller | Response> {
  const localKey = localDevKey(env);
  if (localKey && isLoopbackHost(url)) {
    if (await carriesKey(request, url, localKey)) return LOCAL_CALLER;
    if (request.method === "GET") {
      const landing = await keyLanding(url, localKey);
      if (landing) return landing;
    }
  }
  const settings = accessSettings(env);
  if ("problem" in settings) {
    if (localKey) return localRefusal(url);
    logOnce(`pages: every request is refused: ${settings.problem}`);
    return refusal(403, 40300, "forbidden");
  }
  const token = request.headers.get(ACCESS_JWT_HEADER);
  if (!token) {
    return refusal(
      401,
      40100,
      "missing Cf-Access-Jwt-Assertion header: this app is served only through Cloudflare Access",
    );
  }
  const check = await verifyAccessJwt(token, settings);
  if (check.ok) return { id: `access:${check.subject}` };
  if (check.unavailable) {
    console.error(`pages: Cloudflare Access keys unavailable at ${settings.teamDomain}: ${check.reason}`);
    return refusal(503, 50300, `cannot verify Cloudflare Access tokens now: ${check.reason}`, { "retry-after": "10" });
  }
  return refusal(401, 40100, `invalid Cloudflare Access token: ${check.reason}`);
}

/** Why the local open mode did not open `url`, for the developer running it. */
function localRefusal(url: URL): Response {
  if (!isLoopbackHost(url)) {
    return refusal(
      403,
      40300,
      `the local dev server opens only to localhost, 127.0.0.1 or [::1], not to ${url.hostname.slice(0, 100)}`,
    );
  }
  return refusal(
    401,
    40100,
    "the local dev server opens only with its key: open the address npm run dev printed (it carries the key), " +
      `or send the ${LOCAL_DEV_KEY_HEADER} header with the key in .wrangler/local-dev-key`,
  );
}
