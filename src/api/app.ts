import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { ok } from "../shared/envelope";
import { corsPolicy } from "./cors";
import { accountId, limitBody, onError, onNotFound, requireToken } from "./middleware";
import { requestId } from "./request-id";
import type { AppEnv, RouteGroup } from "./types";
import { workflowsApi } from "./workflows";

/**
 * The Worker's public HTTP API: composition and cross-cutting middleware only. `groups` are
 * the routes of the optional parts src/index.ts plugs in,
 * each behind the same token.
 */
export function createApp(groups: readonly RouteGroup[] = []) {
  // The methods the routes answer, once they are all mounted: CORS allows exactly these.
  const methods: string[] = [];
  const app = new Hono<AppEnv>()
    .use(requestId())
    // A JSON API: no content may load from it or frame it, and no cache may keep it.
    .use(
      secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }),
      async (c, next) => {
        await next();
        c.header("Cache-Control", "no-store");
      },
    )
    .use(corsPolicy(() => methods))
    .get("/health", (c) => c.json(ok({ status: "ok" })))
    .use("/api/*", requireToken(), limitBody())
    .route("/api/workflows", workflowsApi);
  for (const group of groups) {
    if (!group.path.startsWith("/api/")) app.use(`${group.path}/*`, requireToken(), limitBody());
    app.route(group.path, group.routes);
  }
  const composed = app
    // The same routes where the Cloudflare REST API has them, so its clients (the
    // `cloudflare` SDK, with `baseURL` pointed here) drive this Worker unchanged.
    .use("/client/v4/*", requireToken(), limitBody())
    .use("/client/v4/accounts/:account_id/*", accountId())
    .route("/client/v4/accounts/:account_id/workflows", workflowsApi)
    .notFound(onNotFound)
    .onError(onError);
  methods.push(...new Set(composed.routes.map((r) => r.method).filter((m) => m !== "ALL")));
  return composed;
}

/** The API's route table, for typed clients (`hc<App>`, as the Pages app's fetch path). */
export type App = ReturnType<typeof createApp>;
