import { failure } from "../../src/shared/envelope";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { ACCESS_JWT_HEADER } from "./access";
import type { Caller } from "./caller";
import type { PagesBindings } from "./types";

/**
 * Request headers that speak for the caller. The Worker trusts its service-binding
 * callers, so none of these goes through as the browser sent it: the credentials stay
 * here, and the client the Worker's create budget is kept for is the one this app
 * verified.
 */
const CALLER_HEADERS = ["authorization", "cookie", ACCESS_JWT_HEADER, SERVICE_CLIENT_HEADER];

/**
 * /worker/*: a pass-through to WorkflowService's `fetch` over the service binding,
 * with the `/worker` prefix removed (`/worker/api/workflows` -> `/api/workflows`),
 * WebSockets included. A browser using this app never needs the Worker's API
 * token: the Pages project itself is behind Cloudflare Access.
 */
export async function workerPassThrough(request: Request, env: PagesBindings, caller: Caller): Promise<Response> {
  const url = new URL(request.url);
  url.pathname = url.pathname.replace(/^\/worker(?=\/|$)/, "") || "/";
  const forwarded = new Request(url, request);
  for (const name of CALLER_HEADERS) forwarded.headers.delete(name);
  forwarded.headers.set(SERVICE_CLIENT_HEADER, caller.id);
  try {
    return await env.WORKFLOW_SERVICE.fetch(forwarded);
  } catch (error) {
    console.error("pages: the workflows Worker's fetch failed", error);
    const why = error instanceof Error ? error.message : String(error);
    return Response.json(failure(50200, `the workflows Worker could not be reached: ${why}`), { status: 502 });
  }
}
