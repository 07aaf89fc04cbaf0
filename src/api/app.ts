import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { ok } from "../shared/envelope";
import { agentsApi } from "./agents";
import { corsPolicy } from "./cors";
import { accountId, limitBody, onError, onNotFound, requireToken } from "./middleware";
import { queueApi } from "./queue";
import type { AppEnv } from "./types";
import { workflowsApi } from "./workflows";

/** The Worker's public HTTP API: composition and cross-cutting middleware only. */
export const app = new Hono<AppEnv>()
  .use(requestId())
  // A JSON API: no content may load from it or frame it, and no cache may keep it.
  .use(
    secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }),
    async (c, next) => {
      await next();
      c.header("Cache-Control", "no-store");
    },
  )
  .use(corsPolicy())
  .get("/health", (c) => c.json(ok({ status: "ok" })))
  .use("/api/*", requireToken(), limitBody())
  .route("/api/workflows", workflowsApi)
  .route("/api/queue", queueApi)
  // The WorkflowScheduler Agent (HTTP and WebSocket), behind the same token.
  .use("/agents/*", requireToken(), limitBody())
  .route("/agents", agentsApi)
  // The same routes where the Cloudflare REST API has them, so its clients (the
  // `cloudflare` SDK, with `baseURL` pointed here) drive this Worker unchanged.
  .use("/client/v4/*", requireToken(), limitBody())
  .use("/client/v4/accounts/:account_id/*", accountId())
  .route("/client/v4/accounts/:account_id/workflows", workflowsApi)
  .notFound(onNotFound)
  .onError(onError);

export type App = typeof app;
