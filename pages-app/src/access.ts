import { errors, jwtVerify } from "jose";
import { KeysUnavailable, TeamKeys } from "./access-keys";
import { type PagesBindings, setting } from "./types";

/**
 * Cloudflare Access in front of this Pages project, verified here rather than trusted:
 * Access signs a JWT for every request it lets through and sends it in the
 * `Cf-Access-Jwt-Assertion` header. It is checked against the team's public keys
 * (`<team domain>/cdn-cgi/access/certs`), for this application's AUD tag, issued by
 * the team domain, and unexpired. The `CF_Authorization` cookie carries the same token
 * but is not read: Access adds the header to every request it forwards, so a request
 * without it did not come through Access (for example, straight to a `*.pages.dev`
 * hostname Access does not cover), and a cookie is what a browser attaches to
 * another site's requests too.
 */
export const ACCESS_JWT_HEADER = "cf-access-jwt-assertion";

export interface AccessSettings {
  /** The team domain as an origin, `https://<team>.cloudflareaccess.com`: the JWT's `iss`. */
  teamDomain: string;
  /** The Access application's AUD tag: the JWT's `aud`. */
  audience: string;
}

/** The two settings, or a message naming what is missing or wrong. */
export function accessSettings(env: PagesBindings): AccessSettings | { problem: string } {
  const team = setting(env, "ACCESS_TEAM_DOMAIN");
  const audience = setting(env, "ACCESS_AUD");
  const missing = [team ? "" : "ACCESS_TEAM_DOMAIN", audience ? "" : "ACCESS_AUD"].filter(Boolean);
  if (missing.length > 0 || !team || !audience) {
    return {
      problem:
        `Cloudflare Access is not configured: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set, ` +
        "so every request is refused (set them as Pages secrets: wrangler pages secret put NAME)",
    };
  }
  const teamDomain = teamOrigin(team);
  if (!teamDomain) {
    return { problem: "ACCESS_TEAM_DOMAIN must be the team domain, https://<team>.cloudflareaccess.com" };
  }
  return { teamDomain, audience };
}

/**
 * `https://<team>.cloudflareaccess.com` (a bare host gets `https://`), or undefined if it is
 * anything else: the keys are fetched from it, and the tokens must name it as their issuer,
 * so it must be a Cloudflare Access team domain and nothing else (no other host, port,
 * path, query or credentials).
 */
function teamOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`);
  } catch {
    return undefined;
  }
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password && !url.port;
  const teamHost = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.cloudflareaccess\.com$/.test(url.hostname);
  return url.protocol === "https:" && bare && teamHost ? url.origin : undefined;
}

/** One key set per team domain for the isolate's lifetime (./access-keys.ts). */
const keySets = new Map<string, TeamKeys>();
function keySetOf(teamDomain: string) {
  let keys = keySets.get(teamDomain);
  if (!keys) {
    keys = new TeamKeys(new URL("/cdn-cgi/access/certs", teamDomain));
    keySets.set(teamDomain, keys);
  }
  return keys;
}

export type AccessCheck =
  | { ok: true; subject: string; email?: string }
  /** `unavailable`: the keys could not be fetched; nobody can be verified until they can. */
  | { ok: false; unavailable?: true; reason: string };

/** Verifies an Access JWT; `subject` is the user id (`sub`), or a service token's `common_name`. */
export async function verifyAccessJwt(token: string, settings: AccessSettings): Promise<AccessCheck> {
  try {
    const { payload } = await jwtVerify(token, keySetOf(settings.teamDomain).getKey, {
      issuer: settings.teamDomain,
      audience: settings.audience,
      // Access signs with RS256; no other algorithm is accepted.
      algorithms: ["RS256"],
      // Access always sets both: a token without an expiry would be good forever.
      requiredClaims: ["exp", "iat"],
    });
    const subject = payload.sub || (typeof payload.common_name === "string" ? payload.common_name : "");
    if (!subject) return { ok: false, reason: "the token names no subject (sub or common_name)" };
    return { ok: true, subject, ...(typeof payload.email === "string" ? { email: payload.email } : {}) };
  } catch (error) {
    return whyRefused(error);
  }
}

function whyRefused(error: unknown): AccessCheck & { ok: false } {
  if (error instanceof KeysUnavailable) {
    return { ok: false, unavailable: true, reason: "the team's signing keys could not be fetched" };
  }
  if (error instanceof errors.JWTExpired) return { ok: false, reason: "the token has expired" };
  if (error instanceof errors.JWTClaimValidationFailed && error.reason === "missing") {
    return { ok: false, reason: `the token has no ${error.claim} claim` };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return { ok: false, reason: `the token's ${error.claim} claim is not this application's (${error.reason})` };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return { ok: false, reason: "the token's signature does not verify" };
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return { ok: false, reason: "the token is not signed by a key of this team" };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: "the token's algorithm is not RS256" };
  // A malformed token (JWSInvalid, JWTInvalid, ...).
  if (error instanceof errors.JOSEError) return { ok: false, reason: "the token is malformed" };
  // Not the token's fault: nobody can be verified until it passes.
  console.error("pages: verifying a Cloudflare Access token failed", error);
  return { ok: false, unavailable: true, reason: "the token could not be verified now" };
}
