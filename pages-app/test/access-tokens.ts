import { generateKeyPair, importJWK, type JWTPayload, SignJWT } from "jose";
import { inject } from "vitest";

/**
 * Cloudflare Access JWTs for the tests, signed with the test team's private key (made
 * in pages-app/vitest.config.ts, whose public half the Functions fetch as the team's
 * keys), with the claims Access puts in them.
 */
const access = inject("access");
const teamKey = importJWK(access.privateJwk, "RS256");

export const ACCESS_AUD = access.audience;
export const ACCESS_TEAM_DOMAIN = access.teamDomain;
export const COLD_TEAM_DOMAIN = access.coldTeamDomain;
export const UNREACHABLE_TEAM_DOMAIN = access.unreachableTeamDomain;
/** The local dev key of the deployment that runs as `npm run dev` does (PAGES_LOCAL_DEV). */
export const LOCAL_DEV_KEY = inject("localDevKey");

export interface TokenOptions {
  /** Claims to set or (with `undefined`) remove. */
  claims?: Partial<Record<keyof JWTPayload | "email" | "common_name", unknown>>;
  /** Seconds from now until it expires (negative: already expired). */
  expiresIn?: number;
  /** Signed with another key, under the team key's id or one of its own. */
  key?: "team" | "impostor" | "unknown-kid";
}

/** Another key pair, made once: the key an impostor signs with. */
const impostorKey = generateKeyPair("RS256").then(({ privateKey }) => privateKey);

export async function accessToken({ claims = {}, expiresIn = 3600, key = "team" }: TokenOptions = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: access.teamDomain,
    aud: [access.audience],
    sub: "7335d417-61da-459d-899c-0a01c76a2f94",
    email: "ada@example.com",
    type: "app",
    iat: now - 60,
    nbf: now - 60,
    exp: now + expiresIn,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  const signingKey = key === "team" ? await teamKey : await impostorKey;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: key === "unknown-kid" ? "not-a-team-key" : access.keyId })
    .sign(signingKey);
}

/** A valid token for this test run's user, made once. */
let valid: Promise<string> | undefined;
export const validAccessToken = () => (valid ??= accessToken());
