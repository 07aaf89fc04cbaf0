import type { MiddlewareHandler } from "hono";
import { ERROR_CODE } from "../instances/errors";
import { errorResponse } from "./envelope";
import type { AppEnv } from "./types";

/**
 * Seconds a limited client is told to wait. The binding counts per fixed window of
 * `period` seconds (10 or 60, set in wrangler.jsonc) and does not say when the window
 * ends, so answer with the longest period: after that a new window has always begun.
 */
export const RETRY_AFTER_SECONDS = 60;

/**
 * The rate-limit key of a caller: who holds the token, and from where. The token is
 * hashed because the limiter stores its keys (on disk, locally); the raw secret must
 * never be written anywhere. `CF-Connecting-IP` is set by Cloudflare and cannot be
 * forged by the client; a caller without it (a service binding) shares one bucket.
 */
export async function clientKey(token: string, ip: string | undefined): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `create:${hex}:${ip ?? "-"}`;
}

/**
 * The one rate-limit rule of the HTTP API: instance creation, per client, through the
 * Workers Rate Limiting binding `CREATE_RATE_LIMITER`. Mounted on the create routes
 * after auth, so only callers holding the token spend (or exhaust) a budget, and
 * before validation, so a flood of invalid creates is limited too. A batch counts as
 * one request (it holds at most 100 instances). `CREATE_RATE_LIMIT = "off"` turns it
 * off (load tests); any other value, or none, keeps it on.
 */
export const limitCreates = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const setting: string | undefined = c.env.CREATE_RATE_LIMIT;
  if (setting === "off") return next();
  const token = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
  const { success } = await c.env.CREATE_RATE_LIMITER.limit({
    key: await clientKey(token, c.req.header("cf-connecting-ip")),
  });
  if (success) return next();
  c.header("Retry-After", String(RETRY_AFTER_SECONDS));
  return errorResponse(
    c,
    429,
    ERROR_CODE.rate_limited,
    `too many instance creations from this client; retry after ${RETRY_AFTER_SECONDS} seconds`,
  );
};
