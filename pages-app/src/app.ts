import { authenticate } from "./caller";
import { spendCreateBudget } from "./create-budget";
import { runsCreateFunction } from "./create-functions";
import { httpRoutes } from "./http-routes";
import { refusal } from "./refusals";
import { PAGES_MAX_BODY_BYTES } from "./request-body";
import { rpcRoutes } from "./rpc-routes";
import { stateChangeRefusal } from "./same-origin";
import type { PagesBindings } from "./types";
import { workerPassThrough } from "./worker-routes";

/**
 * Every request to the Pages app, the dashboard's static files included, in this order:
 * 1. who is calling (Cloudflare Access, or the local-only open mode): else 401/403;
 * 2. a method the path serves, and a path that can name a file: else 405 with `Allow`, 400;
 * 3. a body within the cap, by its declared length: else 413, before anything reads it;
 * 4. a state change only as same-origin JSON (./same-origin.ts): else 415/403;
 * 5. the API prefixes are answered here, every other path by the next handler: the
 *    guide's Functions (/seed/create, /guide/create, after spending a create of the
 *    caller's budget) or the static files.
 * The API prefixes never fall through to the static files (whose SPA fallback would
 * answer an odd path with index.html), whatever the path looks like.
 */
const API_PREFIXES: [string, { fetch: (request: Request, env: PagesBindings, ctx: ExecutionContext) => unknown }][] = [
  ["/rpc", rpcRoutes],
  ["/http", httpRoutes],
];

const under = (pathname: string, prefix: string) => pathname === prefix || pathname.startsWith(`${prefix}/`);

const isApiPath = (pathname: string) => ["/rpc", "/http", "/worker"].some((prefix) => under(pathname, prefix));

function methodRefusal(request: Request, pathname: string): Response | undefined {
  if (isApiPath(pathname)) return undefined;
  const allowed = runsCreateFunction(pathname) ? ["POST"] : ["GET", "HEAD"];
  if (allowed.includes(request.method)) return undefined;
  return refusal(405, 40500, `${request.method} is not allowed here; use ${allowed.join(" or ")}`, {
    allow: allowed.join(", "),
  });
}

/**
 * A static file's URL with a broken escape (`%` not followed by two hex digits) or a NUL
 * (`%00`), in its path or its query, names no file, and the asset server fails on it (an
 * invalid URL for its fetch, which throws; `wrangler pages dev` answers 502): a 400 here
 * instead. The API prefixes answer such URLs themselves.
 */
function pathRefusal(url: URL): Response | undefined {
  if (isApiPath(url.pathname) || !/%(?![0-9A-Fa-f]{2})|%00/.test(url.pathname + url.search)) return undefined;
  return refusal(400, 40000, "malformed path or query: a broken percent-escape or a NUL");
}

function sizeRefusal(request: Request): Response | undefined {
  const length = Number(request.headers.get("content-length") ?? 0);
  return length > PAGES_MAX_BODY_BYTES
    ? refusal(413, 41300, `request body exceeds ${PAGES_MAX_BODY_BYTES} bytes`)
    : undefined;
}

export interface PagesContext {
  request: Request;
  env: PagesBindings;
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  next(): Promise<Response>;
}

export async function handleRequest(context: PagesContext): Promise<Response> {
  const { request, env } = context;
  const url = new URL(request.url);
  const caller = await authenticate(request, url, env);
  if (caller instanceof Response) return caller;
  const refused =
    methodRefusal(request, url.pathname) ??
    pathRefusal(url) ??
    sizeRefusal(request) ??
    stateChangeRefusal(request, url);
  if (refused) return refused;
  if (under(url.pathname, "/worker")) return workerPassThrough(request, env, caller);
  const api = API_PREFIXES.find(([prefix]) => under(url.pathname, prefix));
  if (api) {
    return (await api[1].fetch(request, env, {
      waitUntil: (promise: Promise<unknown>) => context.waitUntil(promise),
      passThroughOnException: () => context.passThroughOnException(),
      // The routes read the caller from here (callerOf, ./create-budget.ts).
      props: { caller },
    } as ExecutionContext)) as Response;
  }
  // The create Functions call the Worker over RPC, which does not limit creates: the
  // caller's budget is spent here, before they run.
  if (request.method === "POST" && runsCreateFunction(url.pathname)) {
    const spent = await spendCreateBudget(env, caller);
    if (spent) return spent;
  }
  return context.next();
}
