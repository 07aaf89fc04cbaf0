import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import type { Milestone } from "../../src/shared/milestones";
import { ORDER_COMPENSATIONS, ORDER_STEPS } from "../../src/workflows/my-workflow";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { api, largeOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { attemptsOf, eventMatching, history as historyOf, rolledBack, stepOf } from "../workflow-history";

const INSTANCES = "/api/workflows/my-workflow/instances";
const history = (id: string) => historyOf(env.MY_WORKFLOW, id);
const errorsOf = (events: WorkflowInstanceEvent[], stepName: string) =>
  events.flatMap((e) => (e.type === "attempt_errored" && stepOf(e.stepName) === stepName ? [e] : []));

/** The instance's milestones as the API returns them: `[step, type, message]`. */
async function milestonesOf(id: string): Promise<[string, Milestone["type"], string][]> {
  const res = await api<InstanceDetails>("GET", `${INSTANCES}/${id}`);
  expect(res.status).toBe(200);
  return res.body.result!.milestones.map((m) => [m.step, m.type, m.message]);
}
/** What each rollback handler of MyWorkflow records when it compensates instance `id`. */
const refunded = (id: string) => [ORDER_COMPENSATIONS.refund, "rollback", `refunded payment pay-${id}`];
const released = (id: string) => [ORDER_COMPENSATIONS.release, "rollback", `released reservation res-${id}`];
const reserved = [ORDER_STEPS.reserve, "progress", "stock reserved"];

describe("MyWorkflow under faults", () => {
  it("retries a flaky step with exponential backoff, then completes without rolling anything back", async () => {
    const id = uniqueId("flaky");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: ORDER_STEPS.charge }, new Error("payment gateway: 503"), 3);
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("complete");
    expect(((await instance.getOutput()) as OrderOutput).payment_id).toBe(`pay-${id}`);

    const events = await history(id);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(4);
    // The delays the configured backoff asks for (5 s, doubling), even with delays disabled here.
    const delays = errorsOf(events, ORDER_STEPS.charge).map((e) => e.retryDelayMs);
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBe(5_000);
    expect(delays[1]).toBe(2 * delays[0]!);
    expect(delays[2]).toBe(2 * delays[1]!);
    expect(rolledBack(events)).toEqual([]);
  });

  it("gives up after the retry limit, then refunds the payment and releases the reservation", async () => {
    const id = uniqueId("exhausted");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: ORDER_STEPS.charge }, new Error("payment gateway: 503"));
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("errored");
    const error = await instance.getError();
    expect(error.message).toBe("payment gateway: 503");

    const events = await history(id);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(6); // 1 + retries.limit 5
    // The failed charge is rolled back too: a timed-out charge may have gone through.
    expect(rolledBack(events)).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
    expect(events.some((e) => e.type === "step_started" && stepOf(e.stepName) === ORDER_STEPS.ship)).toBe(false);
  });

  it("does not retry a NonRetryableError: one attempt, then the rollback", async () => {
    const id = uniqueId("declined");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockStepError({ name: ORDER_STEPS.charge }, new NonRetryableError("card declined"));
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("errored");
    expect((await instance.getError()).message).toBe("card declined");

    const events = await history(id);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(1);
    expect(rolledBack(events)).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
  });

  it("retries a step that times out, and completes when a later attempt is in time", async () => {
    const id = uniqueId("slow-once");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.forceStepTimeout({ name: ORDER_STEPS.reserve }, 2);
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("complete");
    const events = await history(id);
    expect(attemptsOf(events, ORDER_STEPS.reserve)).toBe(3);
    expect(errorsOf(events, ORDER_STEPS.reserve).map((e) => e.error.message)).toEqual([
      expect.stringMatching(/time/i),
      expect.stringMatching(/time/i),
    ]);
  });

  it("fails a step that always times out and rolls it back with the steps before it", async () => {
    const id = uniqueId("slow-always");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.forceStepTimeout({ name: ORDER_STEPS.charge });
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("errored");
    expect((await instance.getError()).message).toMatch(/time/i);
    expect(rolledBack(await history(id))).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
  });

  it("a shipment that fails for good refunds the payment, then releases the reservation (newest first)", async () => {
    const id = uniqueId("no-ship");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockStepError({ name: ORDER_STEPS.ship }, new NonRetryableError("carrier rejected the address"));
    });
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("errored");
    expect((await instance.getError()).message).toBe("carrier rejected the address");
    expect(rolledBack(await history(id))).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
  });
});

describe("terminate with rollback, and without", () => {
  it("PATCH status terminate + rollback releases the reservation of an order waiting for approval", async () => {
    const id = uniqueId("terminate-rollback");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => m.disableSleeps());
    const created = await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    expect(created.status).toBe(201);
    // The reservation is done; the instance goes on to wait for its approval.
    expect(await instance.waitForStepResult({ name: ORDER_STEPS.reserve })).toBe(`res-${id}`);
    // Its approval milestone is recorded before the wait starts.
    await eventMatching(env.MY_WORKFLOW, id, (e) => e.type === "wait_started");
    const res = await api("PATCH", `${INSTANCES}/${id}/status`, { status: "terminate", rollback: true });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ id, status: "terminated" });
    expect(rolledBack(await history(id))).toEqual([ORDER_STEPS.reserve]);
    // The one compensation due is recorded; a terminate is no failure, so no `failed` milestone.
    expect(await milestonesOf(id)).toEqual([
      reserved,
      [ORDER_STEPS.approval, "progress", "waiting for approval"],
      released(id),
    ]);
  });

  /**
   * An order charged but not shipped: its shipment step fails and waits out the retry
   * delay (10 s by default), long enough to terminate it there.
   */
  async function chargedNotShipped(prefix: string) {
    const id = uniqueId(prefix);
    const instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockStepError({ name: ORDER_STEPS.ship }, new Error("carrier API: 503"));
    });
    expect((await api("POST", INSTANCES, { instance_id: id, params: smallOrder() })).status).toBe(201);
    await eventMatching(
      env.MY_WORKFLOW,
      id,
      (e) => e.type === "attempt_errored" && stepOf(e.stepName) === ORDER_STEPS.ship,
    );
    return { id, instance };
  }

  it("terminate + rollback of a charged order refunds, then releases, and records both newest first", async () => {
    const { id, instance } = await chargedNotShipped("terminate-charged");
    await using _instance = instance;
    const res = await api("PATCH", `${INSTANCES}/${id}/status`, { status: "terminate", rollback: true });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ id, status: "terminated" });

    expect(rolledBack(await history(id))).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
    expect(await milestonesOf(id)).toEqual([reserved, refunded(id), released(id)]);
    expect(attemptsOf(await history(id), ORDER_STEPS.ship)).toBe(1);
  });

  it("terminate without rollback (the control) compensates nothing and records no compensation", async () => {
    const { id, instance } = await chargedNotShipped("terminate-plain");
    await using _instance = instance;
    const res = await api("PATCH", `${INSTANCES}/${id}/status`, { status: "terminate" });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ id, status: "terminated" });

    const events = await history(id);
    expect(events.filter((e) => e.type.startsWith("rollback"))).toEqual([]);
    expect(await milestonesOf(id)).toEqual([reserved]);
  });
});

describe("the simulate param (live demo of a permanent failure, thrown inside the step)", () => {
  it("charge payment fails: the API shows the error and the rollback, the refund and the released reservation", async () => {
    const id = uniqueId("simulate-charge");
    const created = await api("POST", INSTANCES, {
      instance_id: id,
      params: smallOrder({ simulate: { fail_step: "charge payment" } }),
    });
    expect(created.status).toBe(201);
    const result = await waitForApiStatus("my-workflow", id, "errored");
    expect(result.error).toEqual({
      name: "NonRetryableError",
      message: "charge payment failed permanently (simulated)",
    });
    // The platform's record of the rollback, as the API gives it.
    const read = (await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!;
    expect(read.rollback).toEqual({ outcome: "complete", error: null });
    expect(read.steps!.filter((s) => s.type === "rollback")).toEqual([
      expect.objectContaining({ name: `${ORDER_STEPS.charge}-1`, success: true }),
      expect.objectContaining({ name: `${ORDER_STEPS.reserve}-1`, success: true }),
    ]);
    const events = await history(id);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(1);
    expect(rolledBack(events)).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
  });

  it("create shipment fails: payment refunded and reservation released", async () => {
    const id = uniqueId("simulate-ship");
    await api("POST", INSTANCES, {
      instance_id: id,
      params: smallOrder({ simulate: { fail_step: "create shipment" } }),
    });
    const result = await waitForApiStatus("my-workflow", id, "errored");
    expect((result.error as { message: string }).message).toBe("create shipment failed permanently (simulated)");
    expect(rolledBack(await history(id))).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
    // The failure, then both compensations, newest first.
    expect(await milestonesOf(id)).toEqual([
      reserved,
      ["failed", "error", "the run failed"],
      refunded(id),
      released(id),
    ]);
  });

  it("refuses a step that cannot be made to fail, before anything is created", async () => {
    const id = uniqueId("simulate-bad");
    const res = await api("POST", INSTANCES, {
      instance_id: id,
      params: smallOrder({ simulate: { fail_step: "validate order" } as never }),
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ field: "params.simulate.fail_step" });
    expect((await api("GET", `/api/workflows/my-workflow/instances/${id}`)).status).toBe(404);
  });
});
