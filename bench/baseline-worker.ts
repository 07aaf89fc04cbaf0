/**
 * The benchmark baseline: the instance routes of the HTTP API (src/api/workflows.ts
 * under /api/workflows), written as one plain `fetch` handler with a hand-written URL
 * switch instead of Hono. It calls the same instance core (validation, error mapping,
 * instance index) and answers with the same envelope, status codes and headers, so
 * `npm run bench` measures what the framework and its middleware cost.
 * `bench/run.mjs` checks that both answer a set of requests identically before it
 * measures anything.
 *
 * It also carries the bench-only route `POST /bench/create-loop`, which creates
 * instances in a loop inside the Worker: on the Workflow binding directly (the
 * baseline for creation), on the binding plus the instance index's record (what the
 * index costs a create), or through the instance core without HTTP.
 *
 * Never deployed: `npm run bench` builds it with `wrangler deploy --dry-run` and
 * serves it with Miniflare.
 */

import { MAX_BODY_BYTES, tokenMatches } from "../src/api/middleware";
import {
  bulkChangeStatus,
  changeStatus,
  createBatch,
  createInstance,
  getInstance,
  listInstances,
  sendEvent,
} from "../src/instances/instances";
import { failure, ok, okPage } from "../src/shared/envelope";
import { InstanceError } from "../src/shared/errors";
import { recordCreated } from "../src/workflows/instance-records";
import type { OrderParamsInput } from "../src/workflows/order-schema";

// Every class the real entry exports (Workflows, RPC entrypoint, Agent...), so the
// bindings of wrangler.jsonc resolve against this script exactly as against src/index.ts.
export * from "../src/index";

/** The response headers the API sets on every answer (see src/api/app.ts). */
const STATIC_HEADERS: Record<string, string> = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Origin-Agent-Cluster": "?1",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-DNS-Prefetch-Control": "off",
  "X-Download-Options": "noopen",
  "X-Frame-Options": "SAMEORIGIN",
  "X-Permitted-Cross-Domain-Policies": "none",
  "X-XSS-Protection": "0",
};

function json(body: unknown, status = 200, extra?: Record<string, string>): Response {
  const headers = new Headers(STATIC_HEADERS);
  headers.set("X-Request-Id", crypto.randomUUID());
  if (extra) for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return new Response(JSON.stringify(body), { status, headers });
}

const fail = (status: number, code: number, message: string, field?: string, extra?: Record<string, string>) =>
  json(failure(code, message, field), status, extra);

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The same bearer-token rules as the API: constant-time, fail closed when unset. */
async function checkToken(request: Request, env: Env): Promise<Response | undefined> {
  const header = request.headers.get("authorization");
  const challenge = { "WWW-Authenticate": 'Bearer realm=""' };
  if (!header) return fail(401, 40100, "missing Authorization: Bearer <API_TOKEN> header", undefined, challenge);
  const token = BEARER.exec(header)?.[1];
  if (!token) {
    return fail(401, 40100, "malformed Authorization header; expected Bearer <token>", undefined, {
      "WWW-Authenticate": 'Bearer error="invalid_request"',
    });
  }
  if (await tokenMatches(env.API_TOKEN, token)) return undefined;
  const message = env.API_TOKEN
    ? "invalid API token"
    : "API_TOKEN is not configured on this Worker; every request is refused";
  return fail(401, 40100, message, undefined, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
}

async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new InstanceError("too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES)
    throw new InstanceError("too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InstanceError("invalid_input", "body: malformed JSON", "body");
  }
}

const notAllowed = (method: string, ...allowed: string[]) =>
  fail(405, 40500, `${method} is not allowed here; use ${allowed.join(" or ")}`, undefined, {
    Allow: allowed.join(", "),
  });

const segment = (raw: string) => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
};

/** The instance routes of the API (`/api/workflows/:name/instances...`), by hand. */
async function route(request: Request, env: Env, url: URL): Promise<Response> {
  const method = request.method;
  const path = url.pathname;
  // ["api", "workflows", name, "instances", id, ...]
  const parts = path.split("/").slice(1);
  if (parts[0] !== "api" || parts[1] !== "workflows" || parts[3] !== "instances" || !parts[2]) {
    return notFound(method, path);
  }
  const name = segment(parts[2]);
  const id = parts[4] === undefined ? undefined : segment(parts[4]);
  switch (parts.length) {
    case 4:
      if (method === "POST") return json(ok(await createInstance(env, name, await readJson(request))), 201);
      if (method === "GET") {
        const { items, result_info } = await listInstances(env, name, Object.fromEntries(url.searchParams));
        return json(okPage(items, result_info));
      }
      return notAllowed(method, "GET", "POST");
    case 5:
      if (id === "batch") {
        return method === "POST"
          ? json(ok(await createBatch(env, name, await readJson(request))), 201)
          : notAllowed(method, "POST");
      }
      if (id === "bulk") {
        return method === "POST"
          ? json(ok(await bulkChangeStatus(env, name, await readJson(request))))
          : notAllowed(method, "POST");
      }
      return method === "GET" ? json(ok(await getInstance(env, name, id))) : notAllowed(method, "GET");
    case 6:
      if (parts[5] !== "status") break;
      return method === "PATCH"
        ? json(ok(await changeStatus(env, name, id, await readJson(request))))
        : notAllowed(method, "PATCH");
    case 7:
      if (parts[5] !== "events") break;
      return method === "POST"
        ? json(ok(await sendEvent(env, name, id, segment(parts[6]!), await readJson(request))), 202)
        : notAllowed(method, "POST");
  }
  return notFound(method, path);
}

const notFound = (method: string, path: string) => fail(404, 40400, `no route for ${method} ${path}`);

interface CreateLoop {
  /**
   * `binding`: env.MY_WORKFLOW.create only; `indexed`: the same plus the instance index's
   * record, as the core writes it; `core`: the API's createInstance (validation, index).
   */
  mode: "binding" | "indexed" | "core";
  count: number;
  concurrency: number;
  params: OrderParamsInput;
}

/** The creation baselines: `count` creates inside the Worker, `concurrency` at a time. */
async function createLoop(env: Env, body: CreateLoop): Promise<Response> {
  const started = Date.now();
  let next = 0;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: body.concurrency }, async () => {
      while (next < body.count) {
        next++;
        if (body.mode === "core") {
          ids.push((await createInstance(env, "my-workflow", { params: body.params })).id);
          continue;
        }
        const instance = await env.MY_WORKFLOW.create({ params: body.params });
        if (body.mode === "indexed")
          await recordCreated(env, "my-workflow", [{ id: instance.id, status: "queued" }], "api");
        ids.push(instance.id);
      }
    }),
  );
  return Response.json({ ids, elapsed_ms: Date.now() - started });
}

interface IndexWrites {
  /** `record`: one new instance per call; `milestone`: one report of a recorded instance per call. */
  kind: "record" | "milestone";
  count: number;
  concurrency: number;
}

/**
 * What one instance index object takes: `count` calls, `concurrency` at a time, into a
 * fresh object (milestones go to 1,000 instances recorded first, as running instances
 * report). Each call is one small write, as a create or a report makes.
 */
async function indexWrites(env: Env, body: IndexWrites): Promise<Response> {
  const index = env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName(`bench-writes-${crypto.randomUUID()}`));
  const RECORDED = 1000;
  if (body.kind === "milestone") {
    await index.record(
      "my-workflow",
      Array.from({ length: RECORDED }, (_, i) => ({ id: `w-${i}`, trigger: "api" as const, status: "running" })),
    );
  }
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: body.concurrency }, async () => {
      while (next < body.count) {
        const i = next++;
        if (body.kind === "record") {
          await index.record("my-workflow", [{ id: `w-${i}`, trigger: "api", status: "running" }]);
        } else {
          const step = `step ${Math.floor(i / RECORDED)}`;
          await index.recordMilestone(`w-${i % RECORDED}`, { step, percent: 0.5, message: "bench", type: "progress" });
        }
      }
    }),
  );
  return Response.json({ elapsed_ms: performance.now() - started });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    try {
      if (path === "/health") {
        return request.method === "GET" ? json(ok({ status: "ok" })) : notFound(request.method, path);
      }
      if (path === "/api" || path.startsWith("/api/") || path.startsWith("/bench/")) {
        const refused = await checkToken(request, env);
        if (refused) return refused;
      }
      if (path === "/bench/create-loop" && request.method === "POST") {
        return await createLoop(env, (await request.json()) as CreateLoop);
      }
      if (path === "/bench/index-writes" && request.method === "POST") {
        return await indexWrites(env, (await request.json()) as IndexWrites);
      }
      return await route(request, env, url);
    } catch (error) {
      if (error instanceof InstanceError) return fail(error.status, error.code, error.message, error.field);
      console.error("unhandled error", error);
      return fail(500, 50000, "internal error");
    }
  },
} satisfies ExportedHandler<Env>;
