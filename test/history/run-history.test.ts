import { introspectWorkflowInstance } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openEventStream } from "../../src/instances/instance-events";
import type { InstanceDetails } from "../../src/instances/instances";
import type { DoStep, SleepStep, StepOutput, WaitStep } from "../../src/instances/run-history";
import type { WorkflowInfo } from "../../src/instances/workflow-info";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { APPROVAL_EVENT } from "../../src/workflows/order-schema";
import { api, auth, largeOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { history } from "../workflow-history";

const INSTANCES = "/api/workflows/my-workflow/instances";
const details = async (id: string, query = "") => {
  const res = await api<InstanceDetails>("GET", `${INSTANCES}/${id}${query}`);
  expect(res.status, JSON.stringify(res.body.errors)).toBe(200);
  return res.body.result!;
};
const named = (d: InstanceDetails, name: string) =>
  d.steps!.find((s) => "name" in s && s.name === name) as DoStep | SleepStep | WaitStep | undefined;

describe("GET .../instances/:id: the run as the platform recorded it", () => {
  it("gives an ended order's steps, with attempts, config, sleep and wait, and its times and params", async () => {
    const id = uniqueId("steps");
    const params = largeOrder({ settlement_seconds: 1 });
    await api("POST", INSTANCES, { instance_id: id, params });
    await api("POST", `${INSTANCES}/${id}/events/${APPROVAL_EVENT}`, { approved: true, by: "lin" });
    await waitForApiStatus("my-workflow", id, "complete");
    const d = await details(id);

    expect(d).toMatchObject({ status: "complete", success: true, error: null, rollback: null, params });
    expect(d.queued! <= d.start! && d.start! <= d.end!).toBe(true);
    expect(d.created_on).toBe(d.queued);
    expect(d.ended_on).toBe(d.end);
    expect(d.step_count).toBe(d.steps!.length);

    const reserve = named(d, `${ORDER_STEPS.reserve}-1`) as DoStep;
    expect(reserve).toMatchObject({
      type: "step",
      success: true,
      output: JSON.stringify(`res-${id}`),
      config: { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" },
    });
    expect(reserve.attempts).toEqual([
      { start: expect.any(String), end: expect.any(String), success: true, error: null },
    ]);
    const sleep = named(d, `${ORDER_STEPS.settle}-1`) as SleepStep;
    expect(sleep).toMatchObject({ type: "sleep", finished: true, error: null });
    expect(Date.parse(sleep.end) - Date.parse(sleep.start)).toBeGreaterThanOrEqual(900);
    expect(named(d, `${ORDER_STEPS.approval}-1`)).toMatchObject({
      type: "waitForEvent",
      finished: true,
      error: null,
      event_type: APPROVAL_EVENT,
    });
    // In the order they ran.
    const order = d.steps!.flatMap((s) => ("name" in s ? [s.name] : []));
    expect(order.indexOf(`${ORDER_STEPS.reserve}-1`)).toBeLessThan(order.indexOf(`${ORDER_STEPS.charge}-1`));

    // ?simple=true leaves the steps out, ?order=desc gives them newest first.
    const simple = await details(id, "?simple=true");
    expect(simple.steps).toBeUndefined();
    expect(simple.step_count).toBe(d.step_count);
    expect((await details(id, "?order=desc")).steps).toEqual([...d.steps!].reverse());
  });

  it("gives a failed attempt's error and retry delay, the instance's error and its rollback", async () => {
    const id = uniqueId("failing");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockStepError({ name: ORDER_STEPS.reserve }, new Error("inventory service unavailable"), 1);
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder({ simulate: { fail_step: "create shipment" } }) });
    await instance.waitForStatus("errored");
    const d = await details(id);

    const reserve = named(d, `${ORDER_STEPS.reserve}-1`) as DoStep;
    expect(reserve.attempts.map((a) => [a.success, a.error?.message ?? null])).toEqual([
      [false, "inventory service unavailable"],
      [true, null],
    ]);
    expect(reserve.attempts[0]!.retry_delay_ms).toEqual(expect.any(Number));
    expect(named(d, `${ORDER_STEPS.ship}-1`)).toMatchObject({ success: false });
    expect(d.error?.message).toBe("create shipment failed permanently (simulated)");
    expect(d.rollback).toEqual({ outcome: "complete", error: null });
    expect(d.steps!.filter((s) => s.type === "rollback").map((s) => ("name" in s ? s.name : ""))).toEqual([
      `${ORDER_STEPS.charge}-1`,
      `${ORDER_STEPS.reserve}-1`,
    ]);
  });

  it("shows a live order at its wait, unfinished", async () => {
    const id = uniqueId("live");
    await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    const waiting = async () => (await details(id)).steps?.some((s) => s.type === "waitForEvent");
    for (let i = 0; i < 100 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 50));
    const d = await details(id);
    expect(d).toMatchObject({ status: "running", end: null, success: null });
    expect(named(d, `${ORDER_STEPS.approval}-1`)).toMatchObject({ finished: false, end: null });
    await api("PATCH", `${INSTANCES}/${id}/status`, { status: "terminate" });
  });

  it("takes the times of an instance started outside the Worker from its history, not from its first read", async () => {
    const id = uniqueId("outside");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => m.disableSleeps());
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("complete");
    const events = await history(env.MY_WORKFLOW, id);
    await new Promise((r) => setTimeout(r, 300));
    const d = await details(id);
    const queued = new Date(events.find((e) => e.type === "workflow_queued")!.timestamp).toISOString();
    const ended = new Date(events.find((e) => e.type === "workflow_completed")!.timestamp).toISOString();
    expect(d).toMatchObject({ started_by: "unknown", created_on: queued, ended_on: ended });
    // The index row it was recorded with on that read keeps the same times.
    const row = await env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName("my-workflow")).get(id);
    expect(row).toMatchObject({ created_on: queued, ended_on: ended });
  });

  it.each([
    ["?simple=maybe", "simple"],
    ["?order=up", "order"],
    ["?steps=all", "steps"],
  ])("answers 400 naming the field for %s", async (query, field) => {
    const res = await api("GET", `${INSTANCES}/never-created${query}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe(field);
  });
});

describe("GET .../instances/:id/step: one step's full output", () => {
  it("gives a step's output, an attempt's error, a wait's outcome, and 404 for a step the run never made", async () => {
    const id = uniqueId("step-out");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: ORDER_STEPS.charge }, new Error("card declined, try again"), 1);
      await m.mockEvent({ type: APPROVAL_EVENT, payload: { approved: true, by: "lin" } });
    });
    await env.MY_WORKFLOW.create({ id, params: largeOrder() });
    await instance.waitForStatus("complete");
    const step = (query: string) => api<StepOutput>("GET", `${INSTANCES}/${id}/step?${query}`);

    expect((await step(`name=${encodeURIComponent(`${ORDER_STEPS.charge}-1`)}`)).body.result).toEqual({
      status: "complete",
      error: null,
      output: `pay-${id}`,
    });
    expect((await step(`name=${encodeURIComponent(`${ORDER_STEPS.charge}-1`)}&attempt=1`)).body.result).toEqual({
      status: "errored",
      error: { name: "Error", message: "card declined, try again" },
      output: null,
    });
    expect((await step(`name=${encodeURIComponent(`${ORDER_STEPS.charge}-1`)}&attempt=2`)).body.result).toMatchObject({
      status: "complete",
      output: `pay-${id}`,
    });
    const wait = await step(`name=${encodeURIComponent(`${ORDER_STEPS.approval}-1`)}&type=waitForEvent`);
    expect(wait.body.result).toEqual({ status: "complete", error: null, output: null, event_type: APPROVAL_EVENT });

    for (const query of ["name=no-such-step-1", `name=${encodeURIComponent(`${ORDER_STEPS.charge}-1`)}&attempt=3`]) {
      const missing = await step(query);
      expect(missing.status, query).toBe(404);
    }
    const bad = await step("type=step");
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]!.field).toBe("name");
  });
});

/** Reads a Server-Sent Events body to its end: each event's id, type and data. */
async function readEvents(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => /^event: /m.test(block))
    .map((block) => ({
      id: /^id: (.*)$/m.exec(block)?.[1],
      event: /^event: (.*)$/m.exec(block)![1]!,
      data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as Record<string, unknown>,
    }));
}

const subscribe = (id: string, query = "", headers: Record<string, string> = {}) =>
  exports.default.fetch(
    new Request(`https://worker.test${INSTANCES}/${id}/subscribe${query}`, { headers: { ...auth, ...headers } }),
  );

describe("GET .../instances/:id/subscribe: the run's events as Server-Sent Events", () => {
  it("streams an ended instance's history, then ends; a cursor or Last-Event-ID resumes after it; 204 when nothing is left", async () => {
    const id = uniqueId("sse-ended");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => m.disableSleeps());
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("complete");
    const recorded = await history(env.MY_WORKFLOW, id);

    const res = await subscribe(id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(res);
    expect(events.at(-1)).toEqual({ id: undefined, event: "end", data: {} });
    const streamed = events.slice(0, -1);
    expect(streamed.map((e) => e.data)).toEqual(JSON.parse(JSON.stringify(recorded)));
    expect(streamed.map((e) => Number(e.id))).toEqual(recorded.map((e) => e.eventId));
    expect(streamed.map((e) => e.event)).toEqual(recorded.map((e) => e.type));

    const middle = recorded[10]!.eventId;
    const after = (await readEvents(await subscribe(id, `?cursor=${middle}`))).slice(0, -1);
    expect(after.map((e) => Number(e.id))).toEqual(recorded.slice(11).map((e) => e.eventId));
    const resumed = (await readEvents(await subscribe(id, "", { "last-event-id": String(middle) }))).slice(0, -1);
    expect(resumed).toEqual(after);

    const filtered = (await readEvents(await subscribe(id, "?filter=step_completed,workflow_completed"))).slice(0, -1);
    expect(new Set(filtered.map((e) => e.event))).toEqual(new Set(["step_completed", "workflow_completed"]));

    const done = await subscribe(id, `?cursor=${recorded.at(-1)!.eventId}`);
    expect(done.status).toBe(204);
  });

  it("streams a live instance's events as they happen, and ends when it ends", async () => {
    const id = uniqueId("sse-live");
    await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    const res = await subscribe(id, "?filter=wait_started,wait_completed,workflow_completed");
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("event: wait_started")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before the wait: ${text}`);
      text += value;
    }
    // The wait has started and nothing later has happened: the approval is what moves it on.
    expect(text).not.toContain("event: wait_completed");
    await api("POST", `${INSTANCES}/${id}/events/${APPROVAL_EVENT}`, { approved: true, by: "lin" });
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    expect([...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1])).toEqual([
      "wait_started",
      "wait_completed",
      "workflow_completed",
      "end",
    ]);
  });

  it.each([
    ["?filter=no_such_event", 400, "filter"],
    ["?cursor=-1", 400, "cursor"],
    ["?follow=true", 400, "follow"],
  ])("answers %s with %i naming the field", async (query, status, field) => {
    const res = await api("GET", `${INSTANCES}/any-id/subscribe${query}`);
    expect(res.status).toBe(status);
    expect(res.body.errors[0]!.field).toBe(field);
  });

  it("answers 404 for an instance that does not exist, and needs the token", async () => {
    expect((await api("GET", `${INSTANCES}/${uniqueId("never")}/subscribe`)).status).toBe(404);
    expect((await api("GET", `${INSTANCES}/${uniqueId("never")}/subscribe`, undefined, {})).status).toBe(401);
  });
});

describe("workflows and versions in the REST API's shape", () => {
  it("count a workflow's instances by status from the index, and name its Worker and version", async () => {
    const before = (await api<WorkflowInfo>("GET", "/api/workflows/restock-workflow")).body.result!;
    const id = uniqueId("counted");
    await api("POST", "/api/workflows/restock-workflow/instances", { instance_id: id, params: { skus: ["tea-1"] } });
    const after = (await api<WorkflowInfo>("GET", "/api/workflows/restock-workflow")).body.result!;
    const total = (w: WorkflowInfo) => Object.values(w.instances).reduce((a, b) => a + b, 0);
    expect(total(after)).toBe(total(before) + 1);
    expect(after).toMatchObject({
      id: "restock-workflow",
      script_name: "workflows-starter",
      triggered_on: expect.any(String),
      created_on: expect.any(String),
      modified_on: expect.any(String),
    });
    expect(Date.parse(after.triggered_on!)).toBeGreaterThanOrEqual(Date.parse(after.created_on));

    const versions = await api<{ id: string; workflow_id: string }[]>(
      "GET",
      "/api/workflows/restock-workflow/versions",
    );
    expect(versions.body.result).toEqual([
      expect.objectContaining({ workflow_id: "restock-workflow", has_dag: false }),
    ]);
    const version = versions.body.result![0]!.id;
    expect((await api("GET", `/api/workflows/restock-workflow/versions/${version}`)).status).toBe(200);
    expect((await api("GET", "/api/workflows/restock-workflow/versions/not-this-one")).status).toBe(404);
  });
});

describe("an event stream's bounds", () => {
  it("ends after its maximum duration, keeps the connection alive meanwhile, and a reconnect goes on from Last-Event-ID", async () => {
    const id = uniqueId("sse-bounded");
    await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    await waitForApiStatus("my-workflow", id, "running");
    const limits = { maxDurationMs: 600, keepAliveMs: 200, retryMs: 1000 };
    const started = Date.now();
    const { body } = await openEventStream(env, "my-workflow", id, {}, null, limits);
    const text = await new Response(body).text();
    // It ended by itself, at its limit, without the end event an ended instance's stream has.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(text).toMatch(/^retry: 1000\n\n/);
    expect(text).toContain(": keep-alive\n\n");
    expect(text).toMatch(/: reconnect to go on\n\n$/);
    expect(text).not.toContain("event: end");
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(0);

    // The reconnect gives what came after the last id, nothing twice.
    await api("POST", `${INSTANCES}/${id}/events/${APPROVAL_EVENT}`, { approved: false, by: "lin" });
    const rest = await readEvents(await subscribe(id, "", { "last-event-id": String(ids.at(-1)) }));
    expect(rest.at(-1)!.event).toBe("end");
    expect(rest.slice(0, -1).every((e) => Number(e.id) > ids.at(-1)!)).toBe(true);
    expect(rest.map((e) => e.event)).toContain("wait_completed");
  });
});

describe("an event stream across the engine's own abort", () => {
  it("of a run that fails with a NonRetryableError ends cleanly, and a reconnect gives the rest to its end", async () => {
    const id = uniqueId("sse-abort");
    await api("POST", INSTANCES, {
      instance_id: id,
      params: smallOrder({ settlement_seconds: 1, simulate: { fail_step: "charge payment" } }),
    });
    const res = await subscribe(id);
    expect(res.status).toBe(200);
    // The engine aborts itself when a step throws a NonRetryableError, breaking the subscription
    // mid-stream: the stream still ends as a stream (no error), and a client goes on from its last id.
    const first = await readEvents(res);
    const seen = first.filter((e) => e.id !== undefined);
    let all = seen;
    if (first.at(-1)?.event !== "end") {
      await waitForApiStatus("my-workflow", id, "errored");
      const rest = await readEvents(await subscribe(id, "", { "last-event-id": String(seen.at(-1)!.id) }));
      expect(rest.at(-1)!.event).toBe("end");
      all = [...seen, ...rest.filter((e) => e.id !== undefined)];
    }
    expect(all.map((e) => e.event)).toContain("workflow_errored");
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });
});
