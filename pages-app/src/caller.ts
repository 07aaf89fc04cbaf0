import { ACCESS_JWT_HEADER, accessSettings, verifyAccessJwt } from "./access";
import { isLoopbackHost, localDevOpenAsked } from "./local-dev";
import { refusal } from "./refusals";
import type { PagesBindings } from "./types";

/** Who is calling, as far as this app could verify it: the key of their create budget. */
export interface Caller {
  /** `access:<sub>` for a user or service token verified by Cloudflare Access, `local:<ip>` in local dev. */
  id: string;
}

/**
 * The caller of `request`, or the refusal to answer instead. Fails closed: without the
 * Access settings every request is refused, unless the local-only open mode applies.
 */
export async function authenticate(request: Request, url: URL, env: PagesBindings): Promise<Caller | Response> {
  const localOpen = localDevOpenAsked(env);
  if (localOpen && isLoopbackHost(url)) {
    // wrangler pages dev sets CF-Connecting-IP to the client's address.
    return { id: `local:${request.headers.get("cf-connecting-ip") ?? "unknown"}` };
  }
  const settings = accessSettings(env);
  if ("problem" in settings) {
    const note = localOpen
      ? ` LOCAL_DEV_OPEN opens only requests to localhost, 127.0.0.1 or [::1], not to ${url.hostname}.`
      : "";
    return refusal(403, 40300, `${settings.problem}.${note}`);
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
