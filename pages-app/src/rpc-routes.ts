import { Hono } from "hono";
import { etag } from "hono/etag";
import type {
  CreateOptions,
  InstanceDetailsQuery,
  ListInstancesQuery,
  RpcStepQuery,
  StatusRequest,
  SubscribeOptions,
} from "../../src/index";
import { okPage } from "../../src/shared/envelope";
import type { JsonValue } from "../../src/shared/rpc-result";
import { rpcResponse } from "../../src/shared/rpc-result";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { callerOf, createBudget } from "./create-budget";
import { onError, onNotFound } from "./refusals";
import { eventStreamResponse, forwardedRequest, relay } from "./relay";
import { limitBody, readJson } from "./request-body";
import type { PagesAppEnv } from "./types";

/**
 * The Worker's operations through the service binding (Workers RPC): typed method
 * calls on the `WorkflowService` entrypoint, no token, no public URL. Each method
 * resolves to a result union; `rpcResponse` turns it into the status and v4 envelope
 * the Worker's HTTP API would give. Bodies are passed on unchecked: the Worker's
 * instance core validates them and names the field at fault. RPC creates are not limited
 * by the Worker, so each create and batch spends one create of the caller's budget first
 * (./create-budget.ts).
 *
 * Any other method or path under /rpc/workflows goes to the binding's `fetch` (the
 * Worker's own routes, src/rpc/service-app.ts), so this path answers those as the
 * fetch path does: a wrong method gets the Worker's 405 with `Allow`.
 */
const BASE_PATH = "/rpc/workflows";

/** The request's query as a plain object: RPC cannot clone the null-prototype record `c.req.query()` returns. */
const queryOf = <T>(url: string) => Object.fromEntries(new URL(url).searchParams) as T;
export const rpcRoutes = new Hono<PagesAppEnv>()
  .basePath(BASE_PATH)
  .use(limitBody())
  .get("/", async (c) => rpcResponse(await c.env.WORKFLOW_SERVICE.listWorkflows()))
  // ETag and 304 on If-None-Match, as the Worker's HTTP API answers a listing.
  .get("/:name/instances", etag(), async (c) => {
    const page = await c.env.WORKFLOW_SERVICE.listInstances(
      c.req.param("name"),
      queryOf<ListInstancesQuery>(c.req.url),
    );
    // A page as the HTTP API gives it: the items as `result`, `result_info` beside it.
    return page.ok ? c.json(okPage(page.result.items, page.result.result_info)) : rpcResponse(page);
  })
  .post("/:name/instances", createBudget(), async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.create(c.req.param("name"), ((await readJson(c)) ?? {}) as CreateOptions),
      201,
    ),
  )
  .post("/:name/instances/batch", createBudget(), async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.createBatch(c.req.param("name"), (await readJson(c)) as CreateOptions[]),
      201,
    ),
  )
  .get("/:name/instances/:id", async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.status(
        c.req.param("name"),
        c.req.param("id"),
        queryOf<InstanceDetailsQuery>(c.req.url),
      ),
    ),
  )
  .get("/:name/instances/:id/step", async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.step(c.req.param("name"), c.req.param("id"), queryOf<RpcStepQuery>(c.req.url)),
    ),
  )
  // The event stream crosses the binding as a ReadableStream; null: nothing left after the cursor (204).
  .get("/:name/instances/:id/subscribe", async (c) => {
    const result = await c.env.WORKFLOW_SERVICE.subscribe(
      c.req.param("name"),
      c.req.param("id"),
      queryOf<SubscribeOptions>(c.req.url),
      c.req.header("last-event-id"),
    );
    if (!result.ok) return rpcResponse(result);
    return result.result.stream ? eventStreamResponse(result.result.stream) : new Response(null, { status: 204 });
  })
  .get("/:name/versions", async (c) => {
    const versions = await c.env.WORKFLOW_SERVICE.listVersions(c.req.param("name"));
    return versions.ok
      ? c.json(
          okPage(versions.result, {
            page: 1,
            per_page: versions.result.length,
            count: versions.result.length,
            total_count: versions.result.length,
            total_pages: 1,
          }),
        )
      : rpcResponse(versions);
  })
  .patch("/:name/instances/:id/status", async (c) =>
    rpcResponse(
      await c.env.WORKFLOW_SERVICE.changeStatus(
        c.req.param("name"),
        c.req.param("id"),
        (await readJson(c)) as StatusRequest,
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
  .all("/*", async (c) => {
    // A service binding's fetch needs an absolute URL; the host is not used.
    const request = await forwardedRequest(c, BASE_PATH, new URL("https://worker/api/workflows"), {
      [SERVICE_CLIENT_HEADER]: callerOf(c).id,
    });
    return request ? relay(await c.env.WORKFLOW_SERVICE.fetch(request)) : onNotFound(c);
  })
  .notFound(onNotFound)
  .onError(onError);
