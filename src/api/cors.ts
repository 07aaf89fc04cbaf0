import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./types";

/**
 * Origins allowed by `CORS_ALLOWED_ORIGINS` (comma separated, exact `scheme://host[:port]`).
 * Empty or unset means no browser origin may call the API cross-origin: the API is
 * meant for servers and for the Pages app, which calls it server-side.
 */
export function allowedOrigins(setting: string | undefined): Set<string> {
  return new Set(
    (setting ?? "")
      .split(",")
      .map((origin) => origin.trim().replace(/\/+$/, ""))
      .filter((origin) => origin !== "" && origin !== "*" && origin !== "null"),
  );
}

/**
 * An explicit CORS policy, closed by default. A preflight (OPTIONS with `Origin` and
 * `Access-Control-Request-Method`) is answered here, before auth, because browsers
 * never send credentials on a preflight; it grants nothing unless the origin is listed.
 * Other requests get `Access-Control-Allow-Origin` only for a listed origin. A preflight is
 * allowed the methods the API's routes answer (`methods`, read once they are all mounted).
 */
export const corsPolicy = (methods: () => string[]): MiddlewareHandler<AppEnv> => {
  const policy = cors({
    origin: (origin, c) => (allowedOrigins((c.env as Env).CORS_ALLOWED_ORIGINS).has(origin) ? origin : null),
    allowMethods: () => methods(),
    allowHeaders: ["Authorization", "Content-Type"],
    exposeHeaders: ["Retry-After", "X-Request-Id"],
    maxAge: 600,
    // Bearer tokens, never cookies: browsers must not send credentials.
    credentials: false,
  });
  return async (c, next) => {
    if (!c.req.header("origin")) return next();
    // An OPTIONS request that is not a preflight is an ordinary request (401/405 below).
    if (c.req.method === "OPTIONS" && !c.req.header("access-control-request-method")) return next();
    return policy(c, next);
  };
};
