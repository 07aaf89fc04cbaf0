import type { Hono } from "hono";
import type { RequestIdVariables } from "hono/request-id";

/** The Hono environment of every sub-app: Worker bindings plus per-request values. */
export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables;
};

/**
 * Routes an optional part adds to the Worker (src/index.ts passes them in): mounted at
 * `path` on the public API behind the bearer token, and, with `service`, on WorkflowService's
 * `fetch` too, for trusted service-binding callers.
 */
export interface RouteGroup {
  path: `/${string}`;
  routes: Hono<AppEnv>;
  service?: boolean;
}
