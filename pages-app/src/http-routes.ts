import { type Context, Hono, type MiddlewareHandler } from "hono";
import { hc } from "hono/client";
import { etag } from "hono/etag";
import type { App } from "../../src/index";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { callerOf } from "./create-budget";
import { onError, onNotFound, refusal, WorkerUnreachable } from "./refusals";
import { encodeStrayPercent, forwardedRequest, relay } from "./relay";
import { limitBody } from "./request-body";
import { type PagesAppEnv, setting } from "./types";

/**
 * The same operations as ./rpc-routes.ts, through `fetch` to the Worker's public HTTP
 * API at WORKER_URL with the bearer token (the `API_TOKEN` secret). The client is
 * typed from the Worker's own route table (`App`), so a wrong path or a missing
 * path parameter fails to compile. The Worker's status and v4 envelope come back
 * unchanged, a 401 for a wrong token included, with the headers callers act on
 * (`relay`). Any other method or path under /http/workflows goes to the Worker as it
 * came, so a wrong method gets the Worker's 405 with `Allow`.
 */
const worker = (c: Context<PagesAppEnv>) =>
  hc<App>(setting(c.env, "WORKER_URL") ?? "", {
    headers: workerHeaders(c),
    fetch: (input: RequestInfo | URL, init?: RequestInit) => send(c, input, init),
  }).api.workflows;

/**
 * What every request to the Worker carries: the token, and the caller this app verified, whose
 * create budget the Worker then keeps (a token holder names its client: src/api/rate-limit.ts),
 * so the users of this path do not share one.
 */
const workerHeaders = (c: Context<PagesAppEnv>) => ({
  authorization: `Bearer ${c.env.API_TOKEN ?? ""}`,
  [SERVICE_CLIENT_HEADER]: callerOf(c).id,
});

/**
 * Sends a request to the Worker. It carries the token, so a redirect is never followed: the
 * Worker never answers with one, and whatever does (a WORKER_URL that is not the Worker's
 * final address) must not receive the token again at another address.
 */
async function send(c: Context<PagesAppEnv>, input: RequestInfo | URL, init?: RequestInit) {
  let res: Response;
  try {
    res = await fetch(input, { ...init, redirect: "manual" });
  } catch (error) {
    throw new WorkerUnreachable(
      `the workflows Worker is unreachable at ${c.env.WORKER_URL}: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (res.status >= 300 && res.status < 400) {
    throw new WorkerUnreachable(
      `WORKER_URL answered a redirect (${res.status}), not followed with the API token: set WORKER_URL to the Worker's own https URL`,
    );
  }
  return res;
}

/**
 * A path parameter as a path segment for the typed client, which inserts it as it is:
 * re-encoded, so a decoded `/`, `..`, `?` or `%` stays inside its segment instead of
 * steering the request (and the token) to another route of the Worker.
 */
const segment = (c: Context<PagesAppEnv>, name: string) => encodeURIComponent(c.req.param(name) ?? "");

/**
 * A GET of the Worker's typed route `url` with this request's query string (the routes read
 * their queries untyped), and a reconnecting client's Last-Event-ID.
 */
async function getWithQuery(c: Context<PagesAppEnv>, url: URL) {
  url.search = encodeStrayPercent(new URL(c.req.url).search);
  const lastEventId = c.req.header("last-event-id");
  return send(c, url, {
    headers: { ...workerHeaders(c), ...(lastEventId !== undefined ? { "last-event-id": lastEventId } : {}) },
  });
}

/** Request bodies go to the Worker as they came: it parses and validates them. */
const forwardBody = async (c: Context<PagesAppEnv>) => ({
  headers: { "content-type": "application/json" },
  init: { body: await c.req.text() },
});

const BASE_PATH = "/http/workflows";

const instanceParams = (c: Context<PagesAppEnv>) => ({ name: segment(c, "name"), id: segment(c, "id") });

/** Hosts that reach this machine only, where local dev's Worker listens on plain http. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * No WORKER_URL, no fetch path: a clear 503 naming the setting, never a guess (a
 * default such as 127.0.0.1 would send the token nowhere useful in production). The
 * token only travels encrypted: an `http:` URL is refused unless its host is this
 * machine's loopback (local dev's `wrangler dev`).
 */
const requireWorkerUrl = (): MiddlewareHandler<PagesAppEnv> => async (c, next) => {
  const value = setting(c.env, "WORKER_URL");
  let url: URL | undefined;
  try {
    url = value ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  const encrypted = url?.protocol === "https:" || (url?.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
  if (!url || !encrypted) {
    return refusal(
      503,
      50300,
      !value
        ? "WORKER_URL is not set: the fetch path needs the Worker's public URL (wrangler pages secret put WORKER_URL)"
        : url?.protocol === "http:"
          ? "WORKER_URL is http: the API token goes only over https (plain http only to localhost, 127.0.0.1 or [::1]); set the Worker's https URL (wrangler pages secret put WORKER_URL)"
          : "WORKER_URL is not an https URL: set it to the Worker's public URL (wrangler pages secret put WORKER_URL)",
    );
  }
  await next();
};

/** What the typed routes do not serve, to the Worker's `/api/workflows` with the token. */
async function passThrough(c: Context<PagesAppEnv>) {
  const request = await forwardedRequest(c, BASE_PATH, worker(c).$url(), workerHeaders(c));
  return request ? relay(await send(c, request)) : onNotFound(c);
}

export const httpRoutes = new Hono<PagesAppEnv>()
  .basePath(BASE_PATH)
  .use(requireWorkerUrl(), limitBody())
  .get("/", async (c) => relay(await worker(c).$get()))
  // The Worker's ETag comes back (RELAYED_HEADERS); this answers 304 on If-None-Match with it.
  .get("/:name/instances", etag(), async (c) =>
    relay(await getWithQuery(c, worker(c)[":name"].instances.$url({ param: { name: segment(c, "name") } }))),
  )
  .post("/:name/instances", async (c) =>
    relay(await worker(c)[":name"].instances.$post({ param: { name: segment(c, "name") } }, await forwardBody(c))),
  )
  .post("/:name/instances/batch", async (c) =>
    relay(
      await worker(c)[":name"].instances.batch.$post({ param: { name: segment(c, "name") } }, await forwardBody(c)),
    ),
  )
  .get("/:name/instances/:id", async (c) =>
    relay(await getWithQuery(c, worker(c)[":name"].instances[":id"].$url({ param: instanceParams(c) }))),
  )
  .get("/:name/instances/:id/step", async (c) =>
    relay(await getWithQuery(c, worker(c)[":name"].instances[":id"].step.$url({ param: instanceParams(c) }))),
  )
  // The Worker's event stream, its body passed on as it comes (relay keeps the content type).
  .get("/:name/instances/:id/subscribe", async (c) =>
    relay(await getWithQuery(c, worker(c)[":name"].instances[":id"].subscribe.$url({ param: instanceParams(c) }))),
  )
  .patch("/:name/instances/:id/status", async (c) =>
    relay(
      await worker(c)[":name"].instances[":id"].status.$patch(
        { param: { name: segment(c, "name"), id: segment(c, "id") } },
        await forwardBody(c),
      ),
    ),
  )
  .post("/:name/instances/:id/events/:type", async (c) =>
    relay(
      await worker(c)[":name"].instances[":id"].events[":type"].$post(
        { param: { name: segment(c, "name"), id: segment(c, "id"), type: segment(c, "type") } },
        await forwardBody(c),
      ),
    ),
  )
  .all("/*", passThrough)
  .notFound(onNotFound)
  .onError(onError);
