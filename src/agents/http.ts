import { getAgentByName } from "agents";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { jsonBody, methodNotAllowed } from "../api/middleware";
import { createBudgetKey, limitCreates } from "../api/rate-limit";
import type { AppEnv, RouteGroup } from "../api/types";
import { ok } from "../shared/envelope";
import { type RpcResult, rpcEnvelope, rpcStatus } from "../shared/rpc-result";
import { UPGRADE_HEADERS } from "../shared/websocket";
import { parseAgentName, parseListRequest, parseScheduleRequest, parseStartRequest } from "./scheduler-input";

/**
 * The WorkflowScheduler Agent over HTTP and WebSocket, one Agent per `:name`:
 *
 *   GET    /agents/workflow-scheduler/:name                 state; WebSocket upgrade to watch it
 *   GET    /agents/workflow-scheduler/:name/schedules       workflow schedules
 *   POST   /agents/workflow-scheduler/:name/schedules       {workflow, params?, instance_id?, delay_seconds | at | cron}
 *   DELETE /agents/workflow-scheduler/:name/schedules/:id   cancel one
 *   GET    /agents/workflow-scheduler/:name/workflows       tracked workflows: ?status=a,b&workflow=&limit=&cursor=&order=
 *   POST   /agents/workflow-scheduler/:name/workflows       start a tracked workflow now: {workflow, params?, instance_id?}
 *   POST   /agents/workflow-scheduler/:name/workflows/refresh  refresh active statuses now
 *
 * Inputs are validated here, before a Durable Object wakes, and again by the Agent
 * (same functions, ./scheduler-input.ts). No auth here: src/index.ts plugs these routes
 * into the public app (src/api/app.ts), which mounts them behind the bearer token, and into
 * WorkflowService's `fetch` (src/rpc/service-app.ts), which serves them without, to trusted
 * service-binding callers.
 */

const agentOf = (c: Context<AppEnv>) => getAgentByName(c.env.WORKFLOW_SCHEDULER, parseAgentName(c.req.param("name")));

/**
 * The request the Agent gets for a WebSocket upgrade, built from an allow-list: the
 * handshake's headers and the path, nothing else. The agents SDK reads some headers and
 * query parameters of the request it is given as its own instructions (`?_pk=` names the
 * connection, `x-agents-lifecycle-props` sets the Agent's props, `x-cf-agents-subagent-url`
 * routes to a sub-agent); none of those may come from a client.
 */
export function agentUpgradeRequest(request: Request): Request {
  const url = new URL(request.url);
  url.search = "";
  const headers = new Headers();
  for (const name of UPGRADE_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Request(url, { method: "GET", headers });
}

const reply = <T>(c: Context<AppEnv>, result: RpcResult<T>, successStatus: 200 | 201 = 200) =>
  c.json(rpcEnvelope(result), rpcStatus(result, successStatus) as ContentfulStatusCode);

const agentsApi = new Hono<AppEnv>()
  .get("/workflow-scheduler/:name", async (c) => {
    const agent = await agentOf(c);
    // The SDK's WebSocket protocol: the client receives the state on connect and
    // after every change (`cf_agent_state` messages).
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") return agent.fetch(agentUpgradeRequest(c.req.raw));
    return c.json(ok(await agent.snapshot()));
  })
  .all("/workflow-scheduler/:name", methodNotAllowed("GET"))
  .get("/workflow-scheduler/:name/schedules", async (c) => reply(c, await (await agentOf(c)).listWorkflowSchedules()))
  .post("/workflow-scheduler/:name/schedules", limitCreates(), async (c) => {
    const body = await jsonBody(c);
    parseAgentName(c.req.param("name"));
    parseScheduleRequest(body);
    // A cron schedule's firings spend the create budget of whoever made it (the Agent's RPC).
    return reply(c, await (await agentOf(c)).addSchedule(body, await createBudgetKey(c)), 201);
  })
  .all("/workflow-scheduler/:name/schedules", methodNotAllowed("GET", "POST"))
  .delete("/workflow-scheduler/:name/schedules/:id", async (c) =>
    reply(c, await (await agentOf(c)).removeSchedule(c.req.param("id"))),
  )
  .all("/workflow-scheduler/:name/schedules/:id", methodNotAllowed("DELETE"))
  .get("/workflow-scheduler/:name/workflows", async (c) => {
    // A plain object: Hono's query record has no prototype, which RPC cannot serialize.
    const query = { ...c.req.query() };
    parseAgentName(c.req.param("name"));
    parseListRequest(query);
    return reply(c, await (await agentOf(c)).listTrackedWorkflows(query));
  })
  .post("/workflow-scheduler/:name/workflows", limitCreates(), async (c) => {
    const body = await jsonBody(c);
    parseAgentName(c.req.param("name"));
    parseStartRequest(body);
    return reply(c, await (await agentOf(c)).startWorkflow(body), 201);
  })
  .all("/workflow-scheduler/:name/workflows", methodNotAllowed("GET", "POST"))
  .post("/workflow-scheduler/:name/workflows/refresh", async (c) =>
    reply(c, await (await agentOf(c)).refreshStatuses()),
  )
  .all("/workflow-scheduler/:name/workflows/refresh", methodNotAllowed("POST"));

/** The Agent's routes, on the public API and on WorkflowService's `fetch`. */
export const agentRoutes: RouteGroup = { path: "/agents", routes: agentsApi, service: true };
