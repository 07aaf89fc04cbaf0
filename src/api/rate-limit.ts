import type { MiddlewareHandler } from "hono";
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
 * The rate-limit key of a caller: who holds the token, and from where. The token is
 * hashed because the limiter stores its keys (on disk, locally); the raw secret must
 * never be written anywhere. `CF-Connecting-IP` is set by Cloudflare and cannot be
 * forged by the client; a caller without it (a service binding) shares one bucket.
 */
export async function clientKey(token: string, ip: string | undefined): Promise<string> {
  return `create:${await digestHex(token)}:${ip ?? "-"}`;
}

/** The key on the service path: the named client (hashed: it may be an email), or one shared bucket. */
export const serviceClientKey = async (client: string) => `create:service:${client ? await digestHex(client) : "-"}`;

/**
 * The one rate-limit rule of the HTTP API: instance creation, per client, through the
 * Workers Rate Limiting binding `CREATE_RATE_LIMITER`. Mounted on the create routes
 * after auth, so only callers holding the token spend (or exhaust) a budget, and
 * before validation, so a flood of invalid creates is limited too. A batch counts as
 * one request (it holds at most 100 instances). On the service path the key is the
 * client the caller names (`trustServiceClient`), never the Authorization header.
 * `CREATE_RATE_LIMIT = "off"` turns it
 * off (load tests); any other value, or none, keeps it on.
 */
export const limitCreates = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const setting: string | undefined = c.env.CREATE_RATE_LIMIT;
  if (setting === "off") return next();
  const serviceClient = c.get("serviceClient");
  const token = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
  const { success } = await c.env.CREATE_RATE_LIMITER.limit({
    key:
      serviceClient === undefined
        ? await clientKey(token, c.req.header("cf-connecting-ip"))
        : await serviceClientKey(serviceClient),
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
