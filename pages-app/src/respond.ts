import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { failure } from "../../src/shared/envelope";
import { InstanceError } from "../../src/shared/errors";
import { nestingDepth, PAYLOAD_MAX_DEPTH } from "../../src/shared/nesting";
import type { PagesAppEnv } from "./types";

/**
 * Bodies bigger than this never reach the Worker. It is well above the Worker's own
 * limit (1 MiB of params plus room, answered with 413 by the Worker on either path)
 * and well below the 32 MiB a Workers RPC message may carry.
 */
export const PAGES_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const limitBody = () =>
  bodyLimit({
    maxSize: PAGES_MAX_BODY_BYTES,
    onError: (c) => c.json(failure(41300, `request body exceeds ${PAGES_MAX_BODY_BYTES} bytes`), 413),
  });

/**
 * The request body as JSON for an RPC call, read the way the Worker's API reads it
 * (an empty body is `undefined`, malformed JSON a 400 naming `body`). Kept here rather
 * than imported from src/api/middleware.ts so this bundle does not carry the Worker's
 * validation code; the Worker still validates every argument it receives.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InstanceError("invalid_input", "body: malformed JSON", "body");
  }
  // RPC clones arguments recursively: a body nested thousands deep would overflow the
  // stack on this side of the binding (a 502), so refuse it here as the Worker would.
  if (nestingDepth(value, PAYLOAD_MAX_DEPTH) > PAYLOAD_MAX_DEPTH) {
    throw new InstanceError(
      "invalid_input",
      `body: must not nest objects and arrays more than ${PAYLOAD_MAX_DEPTH} levels deep`,
      "body",
    );
  }
  return value;
}

/** The Worker could not be reached over HTTP (down, wrong WORKER_URL): a gateway error, not ours. */
export class WorkerUnreachable extends Error {
  override readonly name = "WorkerUnreachable";
}

/** Errors of the Pages routes, in the Worker's v4 envelope so callers read both paths alike. */
export const onError: ErrorHandler<PagesAppEnv> = (error, c) => {
  if (error instanceof InstanceError) {
    return c.json(failure(error.code, error.message, error.field), error.status as ContentfulStatusCode);
  }
  if (error instanceof WorkerUnreachable) return c.json(failure(50200, error.message), 502);
  // These routes only move data to and from the Worker, and WorkflowService answers
  // every call with a result union rather than throwing: an error here is the
  // service binding itself failing (the Worker not deployed, not running locally,
  // or reloading), so it is a bad gateway, not a fault of this function.
  console.error("pages: call to the workflows Worker failed", error);
  const why = error instanceof Error ? error.message : String(error);
  return c.json(failure(50200, `the workflows Worker could not be reached: ${why}`), 502);
};

/**
 * The Worker's response headers a caller acts on, passed back with its status and body:
 * `Retry-After` (its 429s), `Allow` (its 405s), `x-should-retry` (`false` on its 409s,
 * read by the `cloudflare` SDK), `x-request-id` (the id its logs carry) and `ETag` (a
 * listing's, for conditional reads). Others stay behind: the Worker's security and CORS
 * headers are its own, not this origin's.
 */
export const RELAYED_HEADERS = [
  "content-type",
  "retry-after",
  "allow",
  "x-should-retry",
  "x-request-id",
  "etag",
] as const;

/** The Worker's answer as this function's answer: same status, same body, the headers above. */
export function relay(res: Pick<Response, "body" | "status" | "headers">): Response {
  const headers = new Headers({ "content-type": "application/json" });
  for (const name of RELAYED_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(res.body, { status: res.status, headers });
}

/** A `%` that starts no escape (`%zz`, a trailing `%`) makes a URL fetch refuses: encode it as `%25`. */
export const encodeStrayPercent = (text: string) => text.replace(/%(?![0-9A-Fa-f]{2})/g, "%25");

/**
 * A request the typed routes do not serve (another method, another path under the
 * base path), as a request for `target` (the Worker's `/api/workflows`): same method,
 * same rest of the path and query, same body and content type. The Worker then answers
 * it as it answers any caller (405 with `Allow`, 404, ...), so these routes keep no
 * list of methods or paths of their own.
 */
export async function forwardedRequest(
  c: Context<PagesAppEnv>,
  basePath: string,
  target: URL,
  headers: Record<string, string> = {},
): Promise<Request | undefined> {
  const url = new URL(c.req.url);
  if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return undefined;
  const base = target.pathname.replace(/\/+$/, "");
  target.pathname = base + encodeStrayPercent(url.pathname.slice(basePath.length));
  target.search = encodeStrayPercent(url.search);
  // The incoming path is already normalized, so this holds; checked anyway, since the
  // token (on the fetch path) must only ever go to the workflows API.
  if (target.pathname !== base && !target.pathname.startsWith(`${base}/`)) return undefined;
  const contentType = c.req.header("content-type");
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  return new Request(target, {
    method: c.req.method,
    headers: { ...(contentType ? { "content-type": contentType } : {}), ...headers },
    ...(hasBody ? { body: await c.req.arrayBuffer() } : {}),
  });
}

export const onNotFound: NotFoundHandler<PagesAppEnv> = (c) =>
  c.json(failure(40400, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404);

/** A Server-Sent Events answer (the Worker's event stream, passed on as it comes). */
export const eventStreamResponse = (body: ReadableStream<Uint8Array>) =>
  new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
