import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedInstance, InstanceDetails, StatusChange } from "../../src/instances/instances";
import type { WorkflowInfo } from "../../src/instances/workflow-info";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { LIMITS } from "../../src/workflows/platform-limits";
import { api, fulfilledSmallOrder, largeOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { history, stepsStarted } from "../workflow-history";

const INSTANCES = "/api/workflows/my-workflow/instances";

/** The steps a small order's run starts, in order. */
const ORDER_RUN = [
  ORDER_STEPS.validate,
  ORDER_STEPS.reserve,
  `${ORDER_STEPS.report} (reserved)`,
  ORDER_STEPS.charge,
  ORDER_STEPS.ship,
  `${ORDER_STEPS.report} (shipped)`,
  `${ORDER_STEPS.report} (complete)`,
];

async function create(body: unknown) {
  return api<CreatedInstance>("POST", INSTANCES, body);
}

function expectError(
  res: { status: number; body: { success: boolean; errors: { code: number; message: string; field?: string }[] } },
  status: number,
  field?: string,
) {
  expect(res.status).toBe(status);
  expect(res.body.success).toBe(false);
  expect(res.body.errors[0]!.code).toBe(status * 100);
  if (field) expect(res.body.errors[0]!.field).toBe(field);
}

describe("GET /health and cross-cutting behaviour", () => {
  it("answers /health without a token", async () => {
    const res = await api("GET", "/health", undefined, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, errors: [], messages: [], result: { status: "ok" } });
  });

  it("adds a request id and secure headers to every response", async () => {
    const res = await api("GET", "/api/workflows");
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const denied = await api("GET", "/api/workflows", undefined, {});
    expect(denied.headers.get("x-request-id")).toMatch(/.+/);
  });

  it("answers unknown routes with a JSON 404 and wrong methods with a 405", async () => {
    expectError(await api("GET", "/api/nothing-here"), 404);
    expectError(await api("GET", "/no-such-page", undefined, {}), 404);
    const wrong = await api("DELETE", `${INSTANCES}/some-id`);
    expectError(wrong, 405);
    expect(wrong.headers.get("allow")).toBe("GET");
  });
});

describe("authentication", () => {
  it("refuses a missing, malformed or wrong token with 401", async () => {
    expectError(await api("GET", "/api/workflows", undefined, {}), 401);
    expectError(await api("GET", "/api/workflows", undefined, { Authorization: "Basic abc" }), 401);
    expectError(await api("GET", "/api/workflows", undefined, { Authorization: "Bearer wrong-token" }), 401);
  });

  it("creates nothing for an unauthenticated request", async () => {
    const id = uniqueId("unauth");
    expectError(await api("POST", INSTANCES, { instance_id: id, params: smallOrder() }, {}), 401);
    expectError(await api("GET", `${INSTANCES}/${id}`), 404);
  });
});

describe("GET /api/workflows", () => {
  // What every workflow's description holds is checked for each in ./every-workflow.test.ts.
  it("describes MyWorkflow: its binding, params schema and approval event", async () => {
    const res = await api<WorkflowInfo[]>("GET", "/api/workflows");
    expect(res.status).toBe(200);
    const order = res.body.result!.find((w) => w.name === "my-workflow");
    expect(order).toMatchObject({ name: "my-workflow", class_name: "MyWorkflow", binding: "MY_WORKFLOW" });
    expect(order!.params_schema).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["order_id", "items"]),
    });
    expect(order!.events).toEqual([
      expect.objectContaining({ type: "approval", payload_schema: expect.objectContaining({ type: "object" }) }),
    ]);
  });
});

describe("POST /api/workflows/:name/instances", () => {
  it("creates an instance with a generated id, and with a chosen id and retention", async () => {
    const generated = await create({ params: smallOrder() });
    expect(generated.status).toBe(201);
    expect(generated.body.result).toMatchObject({ workflow: "my-workflow", id: expect.stringMatching(/.+/) });

    const id = uniqueId("chosen");
    const chosen = await create({
      instance_id: id,
      params: smallOrder(),
      instance_retention: { success_retention: "7 days", error_retention: 86_400_000 },
    });
    expect(chosen.status).toBe(201);
    expect(chosen.body.result).toEqual({
      id,
      workflow: "my-workflow",
      status: expect.any(String),
      workflow_id: "my-workflow",
      version_id: expect.any(String),
      trigger_source: "api",
    });

    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect((done.output as OrderOutput).outcome).toBe("fulfilled");
  });

  it("refuses a duplicate id with 409", async () => {
    const id = uniqueId("dup");
    expect((await create({ instance_id: id, params: smallOrder() })).status).toBe(201);
    expectError(await create({ instance_id: id, params: smallOrder() }), 409);
  });

  it.each([
    ["instance_id", { instance_id: "-starts-with-dash", params: smallOrder() }],
    ["instance_id", { instance_id: "has space", params: smallOrder() }],
    ["instance_id", { instance_id: "x".repeat(101), params: smallOrder() }],
    ["instance_id", { instance_id: "", params: smallOrder() }],
    ["instance_id", { instance_id: 42, params: smallOrder() }],
    ["params", { params: "not an object" }],
    ["params.customer_email", { params: smallOrder({ customer_email: "nope" }) }],
    ["params.items", { params: smallOrder({ items: [] }) }],
    ["params.items.0.quantity", { params: smallOrder({ items: [{ sku: "a", quantity: 0, unit_price_cents: 1 }] }) }],
    [
      "instance_retention.success_retention",
      { params: smallOrder(), instance_retention: { success_retention: "soon" } },
    ],
    ["unexpected", { params: smallOrder(), unexpected: true }],
    ["params.surprise", { params: { ...smallOrder(), surprise: 1 } }],
  ])("answers 400 naming the field %s", async (field, body) => {
    const res = await create(body);
    expectError(res, 400);
    expect(res.body.errors[0]!.field).toBe(field);
    expect(res.body.errors[0]!.message).toMatch(new RegExp(`^${field.replace(/\./g, "\\.")}: .+`));
  });

  it("answers 400 for malformed JSON and a missing body", async () => {
    expectError(await create("{ not json"), 400, "body");
    expectError(await api("POST", INSTANCES), 400, "params");
  });

  it("answers 404 for an unknown workflow", async () => {
    expectError(await api("POST", "/api/workflows/no-such-workflow/instances", { params: {} }), 404);
  });

  it("answers 400 naming the field workflow for a workflow name over 64 characters", async () => {
    const long = "w".repeat(LIMITS.workflowNameMax + 1);
    for (const res of [
      await api("POST", `/api/workflows/${long}/instances`, { params: smallOrder() }),
      await api("POST", `/api/workflows/${long}/instances/batch`, [{ params: smallOrder() }]),
      await api("GET", `/api/workflows/${long}/instances/some-id`),
      await api("GET", `/api/workflows/${long}`),
    ]) {
      expectError(res, 400, "workflow");
      expect(res.body.errors[0]!.message).toMatch(/^workflow: .+/);
    }
    // At the limit the name is valid, merely unknown.
    expectError(
      await api("POST", `/api/workflows/${"w".repeat(LIMITS.workflowNameMax)}/instances`, { params: {} }),
      404,
    );
  });

  it("answers 413 for params over 1 MiB and for bodies over the request limit", async () => {
    const big = "x".repeat(1024 * 1024);
    const overParams = await create({ params: smallOrder({ order_id: big } as never) });
    expectError(overParams, 413, "params");
    const overBody = await create({ params: smallOrder(), padding: "y".repeat(2 * 1024 * 1024) });
    expectError(overBody, 413);
  });
});

describe("POST /api/workflows/:name/instances/batch", () => {
  it("creates every instance of the batch", async () => {
    const ids = [uniqueId("batch"), uniqueId("batch")];
    const res = await api<CreatedInstance[]>("POST", `${INSTANCES}/batch`, [
      ...ids.map((instance_id) => ({ instance_id, params: smallOrder() })),
      { params: smallOrder() },
    ]);
    expect(res.status).toBe(201);
    expect(res.body.result).toHaveLength(3);
    expect(res.body.result!.slice(0, 2).map((r) => r.id)).toEqual(ids);
    for (const id of ids) await waitForApiStatus("my-workflow", id, "complete");
  });

  it("refuses the whole batch with 409 when an id exists, creating nothing", async () => {
    const taken = uniqueId("taken");
    const fresh = uniqueId("fresh");
    await create({ instance_id: taken, params: smallOrder() });
    const res = await api("POST", `${INSTANCES}/batch`, [
      { instance_id: fresh, params: smallOrder() },
      { instance_id: taken, params: smallOrder() },
    ]);
    expectError(res, 409);
    expect(res.body.errors[0]!.message).toContain(taken);
    expectError(await api("GET", `${INSTANCES}/${fresh}`), 404);
  });

  it("answers 400 for an empty batch, over 100 items, repeated ids and an invalid item", async () => {
    expectError(await api("POST", `${INSTANCES}/batch`, []), 400, "body");
    expectError(
      await api(
        "POST",
        `${INSTANCES}/batch`,
        Array.from({ length: 101 }, () => ({})),
      ),
      400,
      "body",
    );
    const id = uniqueId("twice");
    expectError(
      await api("POST", `${INSTANCES}/batch`, [
        { instance_id: id, params: smallOrder() },
        { instance_id: id, params: smallOrder() },
      ]),
      400,
      "instance_id",
    );
    expectError(
      await api("POST", `${INSTANCES}/batch`, [{ params: smallOrder({ items: [] }) }]),
      400,
      "0.params.items",
    );
    expectError(await api("POST", `${INSTANCES}/batch`, { not: "an array" }), 400, "body");
  });
});

describe("GET /api/workflows/:name/instances/:id", () => {
  it("answers 404 for an unknown instance and 400 for an invalid id", async () => {
    expectError(await api("GET", `${INSTANCES}/never-created`), 404);
    expectError(await api("GET", `${INSTANCES}/${"z".repeat(101)}`), 400, "instance_id");
    expectError(await api("GET", "/api/workflows/no-such-workflow/instances/x"), 404);
  });

  it("reports an errored instance's error", async () => {
    // Created through the binding, bypassing the API's validation, so the workflow's
    // own check (a NonRetryableError) is what fails it.
    const id = uniqueId("bad");
    await env.MY_WORKFLOW.create({ id, params: { order_id: "x" } as never });
    const details = (await waitForApiStatus("my-workflow", id, "errored")) as InstanceDetails;
    expect(details.error).toEqual({ name: expect.any(String), message: expect.stringContaining("invalid params") });
  });
});

describe("PATCH /api/workflows/:name/instances/:id/status", () => {
  const patch = (id: string, status: unknown) => api<StatusChange>("PATCH", `${INSTANCES}/${id}/status`, { status });

  it("pauses, resumes and terminates, refusing transitions that make no sense with 409", async () => {
    const id = uniqueId("life");
    await create({ instance_id: id, params: largeOrder() });

    const paused = await patch(id, "pause");
    expect(paused.status).toBe(200);
    expect(paused.body.result).toMatchObject({ id, status: "paused", timestamp: expect.any(String) });
    expectError(await patch(id, "pause"), 409);

    const resumed = await patch(id, "resume");
    expect(resumed.status).toBe(200);
    expect(resumed.body.result).toMatchObject({ id, status: "running" });
    expectError(await patch(id, "resume"), 409);

    expect((await patch(id, "terminate")).body.result?.status).toBe("terminated");
    expectError(await patch(id, "terminate"), 409);
    expectError(await patch(id, "pause"), 409);
    expectError(await patch(id, "resume"), 409);
  });

  it("restarts a terminated instance, which then runs to completion", async () => {
    const id = uniqueId("restart");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await create({ instance_id: id, params: smallOrder({ settlement_seconds: 3600 }) });
    // Reserved, then asleep for the hour of settlement: still running when terminated.
    expect(await instance.waitForStepResult({ name: ORDER_STEPS.reserve })).toBe(`res-${id}`);
    expect((await patch(id, "terminate")).body.result?.status).toBe("terminated");

    // The rerun skips the hour's sleep, so it can finish here. Terminating reset the
    // instance's engine, and with it the first introspector's modifier: take a new one
    // (what it stores outlives the restart).
    await using rerun = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await rerun.modify(async (m) => m.disableSleeps());
    const restarted = await patch(id, "restart");
    expect(restarted.status).toBe(200);
    expect(restarted.body.result).toMatchObject({ id, status: "running" });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect(done.output).toEqual(fulfilledSmallOrder(id));
  });

  it("restarts a completed instance: a new run runs every step again", async () => {
    const id = uniqueId("again");
    await create({ instance_id: id, params: smallOrder() });
    const first = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    const firstRun = await history(env.MY_WORKFLOW, id);
    const firstEnd = firstRun.find((e) => e.type === "workflow_completed")!.timestamp;
    expect(stepsStarted(firstRun)).toEqual(ORDER_RUN);

    const restarted = await patch(id, "restart");
    expect(restarted.status).toBe(200);
    expect(restarted.body.result).toMatchObject({ id, status: "running" });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect(done.output).toEqual(fulfilledSmallOrder(id));

    // The history is the new run's alone, recorded after the first run ended: every step
    // started again, once each, and the run completed once.
    const rerun = await history(env.MY_WORKFLOW, id);
    expect(rerun.filter((e) => e.timestamp <= firstEnd)).toEqual([]);
    expect(stepsStarted(rerun)).toEqual(ORDER_RUN);
    expect(rerun.filter((e) => e.type === "workflow_completed")).toHaveLength(1);
    // So are its milestones: each recorded after the first run's completion.
    expect(done.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.ship, "complete"]);
    for (const m of done.milestones) expect(m.at > first.progress!.at).toBe(true);
  });

  it("answers 400 for an unknown action or body and 404 for an unknown instance", async () => {
    const id = uniqueId("actions");
    await create({ instance_id: id, params: largeOrder() });
    expectError(await patch(id, "explode"), 400, "status");
    expectError(await api("PATCH", `${INSTANCES}/${id}/status`, { status: "pause", extra: 1 }), 400);
    expectError(await api("PATCH", `${INSTANCES}/${id}/status`), 400);
    expectError(await patch("never-created", "pause"), 404);
  });
});

describe("POST /api/workflows/:name/instances/:id/events/:type", () => {
  const send = (id: string, type: string, payload: unknown) =>
    api("POST", `${INSTANCES}/${id}/events/${type}`, payload);

  it("completes a waiting order when the approval arrives", async () => {
    const id = uniqueId("approval");
    await create({ instance_id: id, params: largeOrder() });
    const res = await send(id, "approval", { approved: true, by: "lin" });
    expect(res.status).toBe(202);
    expect(res.body.result).toEqual({ instanceId: id, timestamp: expect.any(String), id, type: "approval" });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect(done.output).toMatchObject({ outcome: "fulfilled", approval: { required: true, by: "lin" } });
  });

  it("buffers an event sent while paused and completes after resume", async () => {
    const id = uniqueId("paused-event");
    await create({ instance_id: id, params: largeOrder() });
    await api("PATCH", `${INSTANCES}/${id}/status`, { status: "pause" });
    expect((await send(id, "approval", { approved: false, by: "ops" })).status).toBe(202);
    await api("PATCH", `${INSTANCES}/${id}/status`, { status: "resume" });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect((done.output as OrderOutput).outcome).toBe("rejected");
  });

  it("validates the event type and a declared event's payload", async () => {
    const id = uniqueId("event-input");
    await create({ instance_id: id, params: largeOrder() });
    expectError(await send(id, "approval", { approved: "yes" }), 400, "payload.approved");
    expectError(await send(id, "approval", undefined), 400, "payload");
    expectError(await send(id, "t".repeat(101), {}), 400, "event_type");
    expectError(await send(id, "bad.type", {}), 400, "event_type");
    expectError(await send("never-created", "approval", { approved: true, by: "x" }), 404);
  });

  it("takes an event type named like an object's own property as any undeclared type, not as a schema", async () => {
    const id = uniqueId("proto-event");
    await create({ instance_id: id, params: largeOrder() });
    for (const type of ["toString", "constructor", "hasOwnProperty", "valueOf", "__proto__"]) {
      const res = await send(id, type, { anything: 1 });
      expect(res.status, type).toBe(202);
    }
  });

  it("refuses events to a terminated instance with 409", async () => {
    const id = uniqueId("late");
    await create({ instance_id: id, params: largeOrder() });
    await api("PATCH", `${INSTANCES}/${id}/status`, { status: "terminate" });
    expectError(await send(id, "approval", { approved: true, by: "lin" }), 409);
  });
});
