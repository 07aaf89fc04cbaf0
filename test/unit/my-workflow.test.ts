import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { APPROVAL_EVENT, type OrderOutput } from "../../src/workflows/order-schema";
import { fulfilledSmallOrder, largeOrder, smallOrder, uniqueId } from "../helpers";
import { attemptsOf, history, rolledBack, stepOf } from "../workflow-history";

// Unit tests of one workflow through the binding, steered with the introspection
// helpers: each sets up its introspector before `create`, and `await using` disposes it.
describe("MyWorkflow", () => {
  it("fulfils a small order without waiting for approval", async () => {
    const id = uniqueId("small");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => m.disableSleeps());

    await env.MY_WORKFLOW.create({ id, params: smallOrder({ settlement_seconds: 3600 }) });

    await instance.waitForStatus("complete");
    const output = (await instance.getOutput()) as OrderOutput;
    expect(output).toEqual(fulfilledSmallOrder(id));
  });

  it("succeeds when the reservation step fails twice and then works (retries)", async () => {
    const id = uniqueId("retry");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: ORDER_STEPS.reserve }, new Error("inventory service unavailable"), 2);
    });

    await env.MY_WORKFLOW.create({ id, params: smallOrder() });

    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual(fulfilledSmallOrder(id));
    // Two failed attempts, then the third worked; the order went on once.
    const events = await history(env.MY_WORKFLOW, id);
    expect(attemptsOf(events, ORDER_STEPS.reserve)).toBe(3);
    expect(
      events.flatMap((e) =>
        e.type === "attempt_errored" && stepOf(e.stepName) === ORDER_STEPS.reserve ? [e.error.message] : [],
      ),
    ).toEqual(["inventory service unavailable", "inventory service unavailable"]);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(1);
  });

  it("errors once the reservation step exhausts its retries", async () => {
    const id = uniqueId("exhaust");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableRetryDelays();
      // limit 3 means 1 attempt + 3 retries: four failures exhaust it; a fifth attempt would work.
      await m.mockStepError({ name: ORDER_STEPS.reserve }, new Error("inventory service unavailable"), 4);
    });

    await env.MY_WORKFLOW.create({ id, params: smallOrder() });

    await instance.waitForStatus("errored");
    // A reservation that failed may still have gone through: it is released too.
    expect((await instance.getError()).message).toBe("inventory service unavailable");
    const events = await history(env.MY_WORKFLOW, id);
    expect(attemptsOf(events, ORDER_STEPS.reserve)).toBe(4);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(0);
    expect(rolledBack(events)).toEqual([ORDER_STEPS.reserve]);
  });

  it("fails invalid params at once with NonRetryableError (one attempt, no retries)", async () => {
    const id = uniqueId("invalid");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    // Without delays a retried step would run its retries at once, so the attempt
    // count below tells one attempt from several without waiting on a clock.
    await instance.modify(async (m) => m.disableRetryDelays());

    await env.MY_WORKFLOW.create({ id, params: { order_id: "x", customer_email: "not-an-email", items: [] } });

    await instance.waitForStatus("errored");
    const error = await instance.getError();
    expect(error.name).toBe("NonRetryableError");
    expect(error.message).toMatch(/^invalid params: customer_email: /);
    // The validate step ran exactly once: the default policy would have retried it 5 times.
    const events = await history(env.MY_WORKFLOW, id);
    expect(attemptsOf(events, ORDER_STEPS.validate)).toBe(1);
    expect(events.filter((e) => e.type === "attempt_errored")).toHaveLength(1);
    // Nothing after it ran.
    expect(attemptsOf(events, ORDER_STEPS.reserve)).toBe(0);
  });

  it("waits for approval and completes when the approval event arrives", async () => {
    const id = uniqueId("approve");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockEvent({ type: APPROVAL_EVENT, payload: { approved: true, by: "lin", note: "known customer" } });
    });

    await env.MY_WORKFLOW.create({ id, params: largeOrder() });

    await instance.waitForStatus("complete");
    const output = (await instance.getOutput()) as OrderOutput;
    expect(output.outcome).toBe("fulfilled");
    expect(output.approval).toEqual({ required: true, by: "lin", note: "known customer" });
    expect(output.payment_id).toBe(`pay-${id}`);
  });

  it("releases the reservation when the approver rejects", async () => {
    const id = uniqueId("reject");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.mockEvent({ type: APPROVAL_EVENT, payload: { approved: false, by: "lin" } });
    });

    await env.MY_WORKFLOW.create({ id, params: largeOrder() });

    await instance.waitForStatus("complete");
    const output = (await instance.getOutput()) as OrderOutput;
    expect(output).toMatchObject({ outcome: "rejected", approval: { required: true, by: "lin" } });
    expect(output.payment_id).toBeUndefined();
    expect(await instance.waitForStepResult({ name: ORDER_STEPS.release })).toEqual({ released: `res-${id}` });
  });

  it("expires the order and releases stock when the approval times out", async () => {
    const id = uniqueId("expire");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.forceEventTimeout({ name: ORDER_STEPS.approval });
    });

    await env.MY_WORKFLOW.create({ id, params: largeOrder() });

    await instance.waitForStatus("complete");
    const output = (await instance.getOutput()) as OrderOutput;
    expect(output).toMatchObject({ outcome: "expired", approval: { required: true } });
    expect(output.shipment_id).toBeUndefined();
  });

  it("releases the reservation its reservation step returned, not one it makes up (mockStepResult)", async () => {
    const id = uniqueId("mock");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => {
      await m.disableSleeps();
      // The inventory system answers with a reservation id of its own.
      await m.mockStepResult({ name: ORDER_STEPS.reserve }, "inv-7781");
      await m.mockEvent({ type: APPROVAL_EVENT, payload: { approved: false, by: "lin" } });
    });

    await env.MY_WORKFLOW.create({ id, params: largeOrder() });

    await instance.waitForStatus("complete");
    // The rejected order released what was reserved, and nothing was charged.
    expect(await instance.waitForStepResult({ name: ORDER_STEPS.release })).toEqual({ released: "inv-7781" });
    expect(await instance.getOutput()).toMatchObject({ outcome: "rejected", reservation_id: "inv-7781" });
    expect(attemptsOf(await history(env.MY_WORKFLOW, id), ORDER_STEPS.charge)).toBe(0);
  });
});
