import { Hono } from "hono";
import { rpcResponse } from "../../src/rpc/result";
import type { StatusAction } from "../../src/instances/validation";
import type { JsonValue } from "../../src/rpc/result";
import type { CreateOptions } from "../../src/rpc/workflow-service";
import { limitBody, onError, onNotFound, readJson } from "./respond";
import type { PagesAppEnv } from "./types";

/**
 * The Worker's operations through the service binding (Workers RPC): typed method
 * calls on the `WorkflowService` entrypoint, no token, no public URL. Each method
 * resolves to a result union; `rpcResponse` turns it into the status and v4 envelope
 * the Worker's HTTP API would give. Bodies are passed on unchecked: the Worker's
 * instance core validates them and names the field at fault.
 */
export const rpcRoutes = new Hono<PagesAppEnv>()
  .basePath("/rpc/workflows")
  .use(limitBody())
  .get("/", async (c) => rpcResponse(await c.env.WORKFLOW_SERVICE.listWorkflows()))
  .post("/:name/instances", async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.create(c.req.param("name"), ((await readJson(c)) ?? {}) as CreateOptions),
      201,
    ),
  )
  .post("/:name/instances/batch", async (c) =>
    rpcResponse(await c.env.WORKFLOW_SERVICE.createBatch(c.req.param("name"), (await readJson(c)) as CreateOptions[]), 201),
  )
  .get("/:name/instances/:id", async (c) =>
    rpcResponse(await c.env.WORKFLOW_SERVICE.status(c.req.param("name"), c.req.param("id"))),
  )
  .patch("/:name/instances/:id/status", async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.changeStatus(
        c.req.param("name"),
        c.req.param("id"),
        (await readJson(c)) as { status: StatusAction },
      ),
    ),
  )
  .post("/:name/instances/:id/events/:type", async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.sendEvent(
        c.req.param("name"),
        c.req.param("id"),
        c.req.param("type"),
        (await readJson(c)) as JsonValue,
      ),
      202,
    ),
  )
  .notFound(onNotFound)
  .onError(onError);
