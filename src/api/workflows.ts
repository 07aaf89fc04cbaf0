import { Hono } from "hono";
import { etag } from "hono/etag";
import {
  bulkChangeStatus,
  changeStatus,
  createBatch,
  createInstance,
  describeWorkflow,
  getInstance,
  listInstances,
  listWorkflowsPage,
  sendEvent,
} from "../instances/instances";
import { ok, okPage } from "../shared/envelope";
import { jsonBody, methodNotAllowed } from "./middleware";
import { limitCreates } from "./rate-limit";
import type { AppEnv } from "./types";

/**
 * Workflow instances over HTTP, mirroring the Cloudflare REST API paths without the
 * `/accounts/:account_id` prefix. Validation and error mapping live in
 * src/instances; these handlers only move data between HTTP and that core.
 */
export const workflowsApi = new Hono<AppEnv>()
  .get("/", (c) => {
    const { items, result_info } = listWorkflowsPage(c.req.query());
    return c.json(okPage(items, result_info));
  })
  .all("/", methodNotAllowed("GET"))
  .get("/:name", (c) => c.json(ok(describeWorkflow(c.req.param("name")))))
  .all("/:name", methodNotAllowed("GET"))
  // A page answers 304 to If-None-Match when its body (rows, statuses, totals) is unchanged,
  // so a client polling one page (the dashboard) gets an empty answer until something moves.
  .get("/:name/instances", etag(), async (c) => {
    const { items, result_info } = await listInstances(c.env, c.req.param("name"), c.req.query());
    return c.json(okPage(items, result_info));
  })
  .post("/:name/instances", limitCreates(), async (c) =>
    c.json(ok(await createInstance(c.env, c.req.param("name"), await jsonBody(c))), 201),
  )
  .all("/:name/instances", methodNotAllowed("GET", "POST"))
  .post("/:name/instances/batch", limitCreates(), async (c) =>
    c.json(ok(await createBatch(c.env, c.req.param("name"), await jsonBody(c))), 201),
  )
  .all("/:name/instances/batch", methodNotAllowed("POST"))
  .post("/:name/instances/bulk", async (c) =>
    c.json(ok(await bulkChangeStatus(c.env, c.req.param("name"), await jsonBody(c)))),
  )
  .all("/:name/instances/bulk", methodNotAllowed("POST"))
  .get("/:name/instances/:id", async (c) =>
    c.json(ok(await getInstance(c.env, c.req.param("name"), c.req.param("id")))),
  )
  .all("/:name/instances/:id", methodNotAllowed("GET"))
  .patch("/:name/instances/:id/status", async (c) =>
    c.json(ok(await changeStatus(c.env, c.req.param("name"), c.req.param("id"), await jsonBody(c)))),
  )
  .all("/:name/instances/:id/status", methodNotAllowed("PATCH"))
  .post("/:name/instances/:id/events/:type", async (c) =>
    c.json(
      ok(await sendEvent(c.env, c.req.param("name"), c.req.param("id"), c.req.param("type"), await jsonBody(c))),
      202,
    ),
  )
  .all("/:name/instances/:id/events/:type", methodNotAllowed("POST"));
