import { Hono } from "hono";
import { etag } from "hono/etag";
import { getStep, openEventStream } from "../instances/instance-events";
import {
  bulkChangeStatus,
  changeStatus,
  createBatch,
  createInstance,
  getInstance,
  listInstances,
  sendEvent,
} from "../instances/instances";
import { describeWorkflow, getVersion, listVersions, listWorkflowsPage } from "../instances/workflow-info";
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
  .get("/", async (c) => {
    const { items, result_info } = await listWorkflowsPage(c.env, c.req.query());
    return c.json(okPage(items, result_info));
  })
  .all("/", methodNotAllowed("GET"))
  .get("/:name", async (c) => c.json(ok(await describeWorkflow(c.env, c.req.param("name")))))
  .all("/:name", methodNotAllowed("GET"))
  .get("/:name/versions", (c) => {
    const { items, result_info } = listVersions(c.env, c.req.param("name"), c.req.query());
    return c.json(okPage(items, result_info));
  })
  .all("/:name/versions", methodNotAllowed("GET"))
  .get("/:name/versions/:version", (c) => c.json(ok(getVersion(c.env, c.req.param("name"), c.req.param("version")))))
  .all("/:name/versions/:version", methodNotAllowed("GET"))
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
    c.json(ok(await getInstance(c.env, c.req.param("name"), c.req.param("id"), c.req.query()))),
  )
  .all("/:name/instances/:id", methodNotAllowed("GET"))
  .get("/:name/instances/:id/step", async (c) =>
    c.json(ok(await getStep(c.env, c.req.param("name"), c.req.param("id"), c.req.query()))),
  )
  .all("/:name/instances/:id/step", methodNotAllowed("GET"))
  // Server-Sent Events (src/instances/instance-events.ts); 204 when an ended instance has nothing after the cursor.
  .get("/:name/instances/:id/subscribe", async (c) => {
    const { body } = await openEventStream(
      c.env,
      c.req.param("name"),
      c.req.param("id"),
      c.req.query(),
      c.req.header("last-event-id"),
    );
    return body ? eventStreamResponse(body) : c.body(null, 204);
  })
  .all("/:name/instances/:id/subscribe", methodNotAllowed("GET"))
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

/** A Server-Sent Events answer; `X-Accel-Buffering: no` asks proxies not to hold events back. */
export const eventStreamResponse = (body: ReadableStream<Uint8Array>) =>
  new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no" },
  });
