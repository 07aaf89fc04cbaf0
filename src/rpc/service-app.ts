import { Hono } from "hono";
import { limitBody, onError, onNotFound } from "../api/middleware";
import { trustServiceClient } from "../api/rate-limit";
import { requestId } from "../api/request-id";
import type { AppEnv, RouteGroup } from "../api/types";
import { workflowsApi } from "../api/workflows";
import { ok } from "../shared/envelope";

/**
 * What WorkflowService's `fetch` serves to service-binding callers: the same route
 * groups as the public API in src/api/app.ts, without the bearer token, and those of the
 * optional parts that ask for it (`service`: routes a browser on the Pages app reaches
 * through it). Only Workers and Pages projects of the same account can bind to the service,
 * so the caller is trusted; the Pages app proxies its `/worker/*` paths here, so a browser
 * never holds the API token. Creates spend the budget of the client the caller names in
 * `x-workflows-client` (one shared budget when it names none), not one per Authorization
 * header a browser might rotate.
 */
export function createServiceApp(groups: readonly RouteGroup[] = []) {
  const app = new Hono<AppEnv>()
    .use(requestId(), trustServiceClient())
    .get("/health", (c) => c.json(ok({ status: "ok" })))
    .use("/api/*", limitBody())
    .route("/api/workflows", workflowsApi);
  for (const group of groups.filter((g) => g.service)) {
    if (!group.path.startsWith("/api/")) app.use(`${group.path}/*`, limitBody());
    app.route(group.path, group.routes);
  }
  return app.notFound(onNotFound).onError(onError);
}
