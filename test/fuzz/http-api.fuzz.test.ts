import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/api/middleware";
import { INSTANCE_ID_PATTERN } from "../../src/workflows/platform-limits";
import { WORKFLOWS } from "../../src/workflows/registry";
import { API_TOKEN, auth, largeOrder, smallOrder } from "../helpers";
import * as arb from "./arbitraries";
import { expectEnvelope } from "./envelope";
import { introspectEveryWorkflow, startedIds, startedParams } from "./started";

/** One generated HTTP request, plus the well-formed instance ids it names. */
interface Fuzzed {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  ids: string[];
  /** A valid create, sent as a client would: it must succeed. */
  valid?: true;
}

const json = (value: unknown) => JSON.stringify(value);
const validIds = (...values: unknown[]) =>
  values.flat().filter((v): v is string => typeof v === "string" && v.length <= 100 && INSTANCE_ID_PATTERN.test(v));

const idsInBody = (body: unknown): unknown[] =>
  Array.isArray(body)
    ? body.flatMap(idsInBody)
    : body && typeof body === "object" && "instance_id" in body
      ? [(body as { instance_id: unknown }).instance_id]
      : [];

/** Requests shaped like each route, wrong in one or more places, plus random paths. */
const routeRequest: fc.Arbitrary<Omit<Fuzzed, "method" | "headers">> = fc.oneof(
  fc.tuple(arb.segment(arb.workflowName), fc.oneof(arb.createBody.map(json), arb.rawBody)).map(([wf, body]) => ({
    path: `/api/workflows/${wf}/instances`,
    body,
    ids: validIds(...safeIds(body)),
  })),
  fc
    .tuple(arb.segment(arb.workflowName), fc.oneof(fc.array(arb.createBody, { maxLength: 5 }).map(json), arb.rawBody))
    .map(([wf, body]) => ({ path: `/api/workflows/${wf}/instances/batch`, body, ids: validIds(...safeIds(body)) })),
  fc
    .tuple(arb.segment(arb.workflowName), arb.instanceId)
    .chain(([wf, id]) =>
      arb
        .segment(fc.constant(id))
        .map((encoded) => ({ path: `/api/workflows/${wf}/instances/${encoded}`, ids: validIds(id) })),
    ),
  fc
    .tuple(arb.segment(arb.workflowName), arb.instanceId, fc.oneof(arb.statusBody.map(json), arb.rawBody))
    .map(([wf, id, body]) => ({
      path: `/api/workflows/${wf}/instances/${arb.encodeSegment(id)}/status`,
      body,
      ids: validIds(id),
    })),
  fc
    .tuple(arb.segment(arb.workflowName), arb.instanceId, arb.segment(arb.eventType), arb.rawBody)
    .map(([wf, id, type, body]) => ({
      path: `/api/workflows/${wf}/instances/${arb.encodeSegment(id)}/events/${type}`,
      body,
      ids: validIds(id),
    })),
  fc
    .array(
      arb.segment(
        fc.oneof(
          fc.constantFrom(
            "api",
            "workflows",
            "instances",
            "batch",
            "status",
            "events",
            "health",
            "agents",
            "workflow-scheduler",
            "..",
            ".",
          ),
          fc.string({ maxLength: 12 }),
        ),
      ),
      { maxLength: 8 },
    )
    .map((segments) => ({ path: `/${segments.join("/")}`, ids: [] })),
);

// part: agent (from here)
/** The WorkflowScheduler Agent's routes: schedules and tracked workflows. */
const agentRequest: fc.Arbitrary<Omit<Fuzzed, "method" | "headers">> = fc
  .tuple(
    arb.segment(fc.oneof(fc.constantFrom("fuzz-agent", "a"), fc.string({ maxLength: 80 }))),
    fc.constantFrom("", "/schedules", "/workflows", "/workflows/refresh", "/schedules/x"),
    fc.oneof(
      fc
        .record(
          {
            workflow: fc.oneof(arb.workflowName, arb.anyJson),
            params: arb.anyJson,
            instance_id: fc.oneof(arb.instanceId, arb.anyJson),
            delay_seconds: fc.oneof(fc.integer({ min: -10, max: 40_000_000 }), fc.double(), arb.anyJson),
            at: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
            cron: fc.oneof(fc.constantFrom("* * * * *", "*/5 * * * *", "61 * * * *", "@daily", ""), fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((b) => JSON.stringify(b)),
      arb.rawBody,
    ),
  )
  .map(([name, rest, body]) => ({
    path: `/agents/workflow-scheduler/${name}${rest}`,
    body,
    // An Agent schedule fires later; only a direct start could create at once.
    ids: rest === "/workflows" ? validIds(...safeIds(body)) : [],
  }));
// part: agent (to here)

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The params of each create in a request body (one or a batch), as JSON. */
function paramsIn(body: string | undefined): string[] {
  try {
    const value = JSON.parse(body ?? "") as unknown;
    return (Array.isArray(value) ? value : [value])
      .map((item) => (item && typeof item === "object" ? (item as { params?: unknown }).params : undefined))
      .filter((params) => params !== undefined)
      .map((params) => JSON.stringify(params));
  } catch {
    return [];
  }
}

function safeIds(body: string): unknown[] {
  try {
    return idsInBody(JSON.parse(body));
  } catch {
    return [];
  }
}

const withMethodAndHeaders = (routes: fc.Arbitrary<Omit<Fuzzed, "method" | "headers">>): fc.Arbitrary<Fuzzed> =>
  fc
    .tuple(routes, arb.method, arb.authorization(API_TOKEN), arb.extraHeaders)
    .map(([route, method, authorization, extra]) => ({
      ...route,
      method,
      headers: { ...extra, ...(authorization === undefined ? {} : { authorization }) },
    }));
const fuzzed = withMethodAndHeaders(routeRequest);

/** Valid creates, one or a batch, with the token and a JSON body. */
const validCreate: fc.Arbitrary<Fuzzed> = fc
  .oneof(
    arb.validCreateBody.map((body) => ({ path: "/api/workflows/my-workflow/instances", body: [body] })),
    fc
      .array(arb.validCreateBody, { minLength: 1, maxLength: 3 })
      .map((body) => ({ path: "/api/workflows/my-workflow/instances/batch", body })),
  )
  .map(({ path, body }) => ({
    method: "POST",
    path,
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: json(path.endsWith("/batch") ? body : body[0]),
    ids: validIds(...body.map((b) => b.instance_id)),
    valid: true as const,
  }));

/** The routes behind the token; a CORS preflight is answered before it. */
const PROTECTED_PREFIXES = [
  "api",
  "client/v4",
  "agents", // part: agent
];
const PROTECTED = new RegExp(`^/(?:${PROTECTED_PREFIXES.join("|")})(?:/|$)`);
/**
 * Whether `authorization` carries the token, as the bearer check reads it: the scheme in
 * any case, then one or more spaces (the Fetch API trims the value's ends).
 */
const carriesToken = (authorization: string | undefined) =>
  /^bearer +(.*)$/i.exec(authorization?.trim() ?? "")?.[1] === API_TOKEN;

function toRequest(f: Fuzzed): Request | undefined {
  try {
    const hasBody = f.body !== undefined && f.method !== "GET" && f.method !== "HEAD";
    return new Request(`https://worker.test${f.path}`, {
      method: f.method,
      headers: f.headers,
      ...(hasBody ? { body: f.body } : {}),
    });
  } catch {
    // The fetch API itself refuses some methods and header values; nothing to send.
    return undefined;
  }
}

async function instanceExists(binding: Workflow, id: string): Promise<boolean> {
  try {
    await (await binding.get(id)).status();
    return true;
  } catch {
    return false;
  }
}

/**
 * A CORS preflight, as the Worker tells one: an empty Origin names no origin and an empty
 * Access-Control-Request-Method no method (the Fetch API trims header values).
 */
const isPreflight = (f: Fuzzed) =>
  f.method === "OPTIONS" &&
  Boolean(f.headers.origin?.trim()) &&
  Boolean(f.headers["access-control-request-method"]?.trim());

/**
 * The instance ids named by refused requests and by accepted ones. A refused request must
 * not reach a binding: none of its ids may start (`expectNoRefusedIdStarted`), unless an
 * accepted request named the same id.
 */
interface Named {
  refused: Set<string>;
  accepted: Set<string>;
}
const named = (): Named => ({ refused: new Set(), accepted: new Set() });

/**
 * Sends `f` and checks what every answer must be: below 500 and, unless HEAD or a
 * preflight, the v4 envelope as JSON; notes the ids it named in `ids`. Resolves with
 * the status and body, or undefined when nothing could be sent.
 */
async function sendAndCheck(f: Fuzzed, ids: Named): Promise<{ status: number; body: unknown } | undefined> {
  const request = toRequest(f);
  if (!request) return undefined;
  const res = await exports.default.fetch(request);
  const text = await res.text();
  expect(res.status, `${f.method} ${f.path} -> ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
  if (f.method === "HEAD") return { status: res.status, body: undefined }; // no body by definition
  if (isPreflight(f) && res.status === 204) {
    expect(text).toBe("");
    return { status: res.status, body: undefined };
  }
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  let body: unknown;
  expect(() => (body = JSON.parse(text)), `${f.method} ${f.path}: ${text.slice(0, 200)}`).not.toThrow();
  expectEnvelope(res.status, body);
  // 401 exactly when a route behind the token is called without it.
  const guarded = PROTECTED.test(new URL(request.url).pathname) && !isPreflight(f);
  expect(res.status === 401, `${f.method} ${request.url} with ${JSON.stringify(f.headers.authorization)}`).toBe(
    guarded && !carriesToken(f.headers.authorization),
  );
  for (const id of f.ids) (res.status >= 400 ? ids.refused : ids.accepted).add(id);
  return { status: res.status, body };
}

/** No instance of any workflow started under an id that only refused requests named. */
async function expectNoRefusedIdStarted(workflows: Awaited<ReturnType<typeof introspectEveryWorkflow>>, ids: Named) {
  for (const { name, introspector } of workflows.each) {
    const started = (await startedIds(introspector)).filter((id) => ids.refused.has(id) && !ids.accepted.has(id));
    expect(started, `${name}: started under ids only refused requests named`).toEqual([]);
  }
}

describe("HTTP API under random input", () => {
  it("never answers 5xx or outside the envelope, and refused requests never reach a binding", async () => {
    // Every registered workflow: a create anywhere is accounted for below.
    await using workflows = await introspectEveryWorkflow();
    const orders = workflows.each.find((w) => w.name === "my-workflow")!.introspector;
    // Instances a fuzzed request may legitimately create finish at once.
    await orders.modifyAll(async (m) => m.disableSleeps());
    const created: Record<string, string[]> = Object.fromEntries(WORKFLOWS.map((w) => [w.name, []]));
    // The params of refused creates: no instance may have started with any of them.
    const refusedParams = new Set<string>();
    const ids = named();
    let sent = 0;

    let validSent = 0;

    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: fuzzed }, validCreate), async (f) => {
        const answer = await sendAndCheck(f, ids);
        fc.pre(answer !== undefined);
        sent++;
        const workflow = safeDecode(f.path.split("/")[3] ?? "");
        if (f.valid) {
          validSent++;
          expect(answer!.status, `${f.path} ${f.body?.slice(0, 300)}`).toBe(201);
        }
        if (answer!.status === 201) {
          const result = (answer!.body as { result: { id: string } | { id: string }[] }).result;
          created[workflow]?.push(...(Array.isArray(result) ? result : [result]).map((r) => r.id));
        } else if (answer!.status >= 400 && f.method === "POST" && /\/instances(\/batch)?$/.test(f.path)) {
          for (const params of paramsIn(f.body)) refusedParams.add(params);
        }
      }),
      { numRuns: 200 },
    );

    expect(sent).toBeGreaterThan(150);
    // Valid creates were sent, every one succeeded (checked above), and created instances.
    expect(validSent).toBeGreaterThan(10);
    expect(created["my-workflow"]!.length).toBeGreaterThanOrEqual(validSent);
    expect(ids.refused.size, "refused requests named no instance id").toBeGreaterThan(0);
    await expectNoRefusedIdStarted(workflows, ids);
    for (const { name: workflow, introspector, binding } of workflows.each) {
      const started = await startedIds(introspector);
      // Each 201 started exactly one instance...
      for (const id of created[workflow]!)
        expect(
          started.filter((s) => s === id),
          `${workflow}/${id}`,
        ).toHaveLength(1);
      // ...and nothing else started from this run: no instance with a refused request's params.
      const ours = new Set(created[workflow]);
      for (const id of started.filter((s) => !ours.has(s))) {
        expect(refusedParams.has(JSON.stringify(await startedParams(binding, id))), `${workflow}/${id}`).toBe(false);
      }
    }
  }, 60_000);

  // part: agent (from here)
  it("the Agent's routes never answer 5xx or outside the envelope either", async () => {
    await using workflows = await introspectEveryWorkflow();
    const ids = named();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(withMethodAndHeaders(agentRequest), async (f) => {
        const answer = await sendAndCheck(f, ids);
        fc.pre(answer !== undefined);
        sent++;
      }),
      { numRuns: 100 },
    );
    expect(sent).toBeGreaterThan(70);
    await expectNoRefusedIdStarted(workflows, ids);
  }, 60_000);
  // part: agent (to here)

  const oversized: [string, string, string, number][] = [
    ["a 2 MiB create body", "/api/workflows/my-workflow/instances", "x".repeat(2 * 1024 * 1024), 413],
    [
      "params over 1 MiB inside an accepted body size",
      "/api/workflows/my-workflow/instances",
      JSON.stringify({ instance_id: arb.freshId(), params: { ...smallOrder(), pad: "x".repeat(1024 * 1024) } }),
      413,
    ],
    ["a body just over the limit", "/api/workflows/my-workflow/instances", " ".repeat(MAX_BODY_BYTES + 1), 413],
    [
      "JSON nested 100,000 deep",
      "/api/workflows/my-workflow/instances",
      "[".repeat(100_000) + "]".repeat(100_000),
      400,
    ],
    [
      "a batch nested 100,000 deep",
      "/api/workflows/my-workflow/instances/batch",
      "[".repeat(100_000) + "]".repeat(100_000),
      400,
    ],
    [
      "params nested 65 deep",
      "/api/workflows/my-workflow/instances",
      JSON.stringify({
        instance_id: arb.freshId(),
        params: JSON.parse(`${'{"a":'.repeat(65)}1${"}".repeat(65)}`) as unknown,
      }),
      400,
    ],
  ];
  it.each(oversized)("refuses %s (%s) with the right 4xx and the envelope", async (_, path, body, status) => {
    const res = await exports.default.fetch(
      new Request(`https://worker.test${path}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body,
      }),
    );
    expect(res.status).toBe(status);
    expectEnvelope(res.status, await res.json());
    const named = body.startsWith("{") ? (JSON.parse(body) as { instance_id: string }).instance_id : undefined;
    if (named) expect(await instanceExists(env.MY_WORKFLOW, named)).toBe(false);
  });

  it("refuses oversized and pathological event payloads to a live instance, which keeps waiting", async () => {
    const id = arb.freshId();
    expect(
      (
        await exports.default.fetch(
          new Request("https://worker.test/api/workflows/my-workflow/instances", {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({ instance_id: id, params: largeOrder() }),
          }),
        )
      ).status,
    ).toBe(201);
    const payloads: [string, string, number][] = [
      ["over 1 MiB", JSON.stringify({ pad: "x".repeat(1024 * 1024 + 10) }), 413],
      ["nested 50,000 deep", `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`, 400],
      ["an approval of the wrong shape", JSON.stringify({ approved: "yes" }), 400],
    ];
    for (const type of ["approval", "custom"]) {
      for (const [what, body, status] of payloads) {
        if (type === "custom" && what.startsWith("an approval")) continue;
        const res = await exports.default.fetch(
          new Request(`https://worker.test/api/workflows/my-workflow/instances/${id}/events/${type}`, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body,
          }),
        );
        expect(res.status, `${type}: ${what}`).toBe(status);
        expectEnvelope(res.status, await res.json());
      }
    }
    expect((await env.MY_WORKFLOW.get(id).then((i) => i.status())).status).toBe("running");
  });
});
