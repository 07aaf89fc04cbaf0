import { failure } from "../../src/shared/envelope";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { UPGRADE_HEADERS } from "../../src/shared/websocket";
import { callersAgentPath } from "./agent-names"; // part: agent
import type { Caller } from "./caller";
import type { PagesBindings } from "./types";

/**
 * The request headers the Worker gets from a browser, by kind of request. Nothing else goes
 * through: the Worker trusts its service-binding callers, so credentials (cookies, the Access
 * token, the local key, an Authorization header), the client the create budget is kept for,
 * and whatever else a client sets (an `X-Request-Id`, the agents SDK's own headers) stay here.
 */
const FORWARDED_HEADERS = ["content-type", "accept", "if-none-match"];

/**
 * The request for the Worker, built from an allow-list: the path without its `/worker` prefix
 * (`/worker/api/workflows` -> `/api/workflows`), the method, the body, the headers above, and
 * the caller this app verified in `x-workflows-client` (whose create budget the Worker keeps).
 * A WebSocket upgrade goes without its query (the agents SDK reads `?_pk=` as the
 * connection's id) and without a body.
 */
export function forwardedToWorker(request: Request, pathname: string, caller: Caller): Request {
  const url = new URL(request.url);
  url.pathname = pathname;
  const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
  if (upgrade) url.search = "";
  const headers = new Headers();
  for (const name of upgrade ? UPGRADE_HEADERS : FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set(SERVICE_CLIENT_HEADER, caller.id);
  const hasBody = !upgrade && request.method !== "GET" && request.method !== "HEAD";
  return new Request(url, { method: request.method, headers, ...(hasBody ? { body: request.body } : {}) });
}

/**
 * How the optional parts rewrite a path under /worker for the caller, or refuse it: the
 * Agent's routes reach the caller's own Agents (./agent-names.ts).
 */
const PATH_RULES: ((pathname: string, caller: Caller) => Promise<string | Response>)[] = [
  callersAgentPath, // part: agent
];

/**
 * /worker/*: a pass-through to WorkflowService's `fetch` over the service binding,
 * WebSockets included. A browser using this app never needs the Worker's API token: the
 * Pages project itself is behind Cloudflare Access.
 */
export async function workerPassThrough(request: Request, env: PagesBindings, caller: Caller): Promise<Response> {
  let pathname = new URL(request.url).pathname.replace(/^\/worker(?=\/|$)/, "") || "/";
  for (const rule of PATH_RULES) {
    const rewritten = await rule(pathname, caller);
    if (rewritten instanceof Response) return rewritten;
    pathname = rewritten;
  }
  try {
    return await env.WORKFLOW_SERVICE.fetch(forwardedToWorker(request, pathname, caller));
  } catch (error) {
    console.error("pages: the workflows Worker's fetch failed", error);
    const why = error instanceof Error ? error.message : String(error);
    return Response.json(failure(50200, `the workflows Worker could not be reached: ${why}`), { status: 502 });
  }
}
