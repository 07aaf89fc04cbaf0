import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { ok } from "./envelope";
import { limitBody, onError, onNotFound, requireToken } from "./middleware";
import type { AppEnv } from "./types";
import { workflowsApi } from "./workflows";

/** The Worker's public HTTP API: composition and cross-cutting middleware only. */
export const app = new Hono<AppEnv>()
  .use(requestId())
  .use(secureHeaders())
  .get("/health", (c) => c.json(ok({ status: "ok" })))
  .use("/api/*", requireToken(), limitBody())
  .route("/api/workflows", workflowsApi)
  .notFound(onNotFound)
  .onError(onError);

export type App = typeof app;
