import type { Context, MiddlewareHandler } from "hono";
import { ERROR_CODE } from "../shared/errors";
import { SERVICE_CLIENT_HEADER } from "../shared/service-client";
import { errorResponse } from "./error-response";
import type { AppEnv } from "./types";

/**
 * Seconds a limited client is told to wait. The binding counts per fixed window of
 * `period` seconds (10 or 60, set in wrangler.jsonc) and does not say when the window
 * ends, so answer with the longest period: after that a new window has always begun.
 */
export const RETRY_AFTER_SECONDS = 60;

export const RATE_LIMITED_MESSAGE = `too many instance creations from this client; retry after ${RETRY_AFTER_SECONDS} seconds`;

declare module "hono" {
  interface ContextVariableMap {
    /** Set on the service path only (`trustServiceClient`): whose create budget a request spends. */
    serviceClient: string | undefined;
  }
}

/** Mounted by the service app: keys the create budget on the client its caller names. */
export const trustServiceClient = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  c.set("serviceClient", c.req.header(SERVICE_CLIENT_HEADER)?.slice(0, 256) ?? "");
  await next();
};

const digestHex = async (text: string) => {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
};

/**
 * The rate-limit key of a caller of the public API who names no client: who holds the
 * token, and from where. The token is hashed because the limiter stores its keys (on disk,
 * locally); the raw secret must never be written anywhere. `CF-Connecting-IP` is set by
 * Cloudflare and cannot be forged by the client; a caller without it shares one bucket.
 */
export async function clientKey(token: string, ip: string | undefined): Promise<string> {
  return `create:${await digestHex(token)}:${ip ?? "-"}`;
}

/**
 * The key of a client a trusted caller names (hashed: it may be an email), or one shared
 * bucket when it names none. The same on every path, so a client has one budget whichever
 * way its creates arrive (the Pages app's /rpc, /http, /worker, its create Functions, and the
 * cron schedules it made through the Agent).
 */
export const namedClientKey = async (client: string) => `create:service:${client ? await digestHex(client) : "-"}`;

/** Spends one create of `key`'s budget; false when it is spent. `CREATE_RATE_LIMIT = "off"` spends nothing. */
export async function spendCreateBudget(env: Env, key: string): Promise<boolean> {
  // A var wrangler.jsonc sets to "on"; `wrangler dev --var CREATE_RATE_LIMIT:off` changes it.
  const setting: string = env.CREATE_RATE_LIMIT;
  if (setting === "off") return true;
  return (await env.CREATE_RATE_LIMITER.limit({ key })).success;
}

/**
 * Whose budget a create request spends. On the service path, the client the caller names
 * (`trustServiceClient`), never the Authorization header. On the public API (behind the
 * token), the client named in `x-workflows-client` if the token holder names one (a server
 * serving many users, as the Pages app's fetch path, gives each its own budget: naming a
 * client is trusted as the token is), else the token and address.
 */
export async function createBudgetKey(c: Context<AppEnv>): Promise<string> {
  const serviceClient = c.get("serviceClient");
  if (serviceClient !== undefined) return namedClientKey(serviceClient);
  const named = c.req.header(SERVICE_CLIENT_HEADER)?.slice(0, 256);
  if (named) return namedClientKey(named);
  const token = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
  return clientKey(token, c.req.header("cf-connecting-ip"));
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
  if (await spendCreateBudget(c.env, await createBudgetKey(c))) return next();
  c.header("Retry-After", String(RETRY_AFTER_SECONDS));
  return errorResponse(c, 429, ERROR_CODE.rate_limited, RATE_LIMITED_MESSAGE);
};
