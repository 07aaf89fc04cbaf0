import type { Context } from "hono";
import type { PagesAppEnv } from "./types";

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

/** A Server-Sent Events answer (the Worker's event stream, passed on as it comes). */
export const eventStreamResponse = (body: ReadableStream<Uint8Array>) =>
  new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
