import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import { ORDER_COMPENSATIONS, ORDER_STEPS } from "../../src/workflows/my-workflow";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { api, fulfilledSmallOrder, largeOrder, pollUntil, smallOrder, uniqueId } from "../helpers";
import { attemptsOf, history as historyOf, rolledBack } from "../workflow-history";

const INSTANCES = "/api/workflows/my-workflow/instances";
const history = (id: string) => historyOf(env.MY_WORKFLOW, id);

/** Reads the instance through the API until it has finished, whichever way. */
const finished = (id: string) =>
  pollUntil(
    async () => (await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!,
    (r) => ["complete", "errored", "terminated"].includes(r?.status),
    `instance ${id} did not finish`,
    20_000,
  );

/** Creates an order through the API, with the settlement sleep and retry delays skipped. */
async function createOrder(id: string, params: unknown) {
  const instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
  await instance.modify(async (m) => {
    await m.disableSleeps();
    await m.disableRetryDelays();
  });
  const res = await api("POST", INSTANCES, { instance_id: id, params });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return instance;
}

describe("MyWorkflow: notifying its parent", () => {
  it("a shipped order whose parent cannot be notified completes as fulfilled, refunding nothing", async () => {
    const id = uniqueId("orphan");
    const parent = { workflow: "my-workflow" as const, instance_id: uniqueId("nope"), event_type: "x" };
    await using _instance = await createOrder(id, smallOrder({ parent }));

    const done = await finished(id);
    expect(done.status).toBe("complete");
    expect(done.output as OrderOutput).toEqual({
      ...fulfilledSmallOrder(id),
      parent: { ...parent, notified: false, error: expect.stringContaining(`${parent.instance_id} of my-workflow`) },
    });
    // The progress says what happened: complete, with the missed notification noted.
    expect(done.progress).toMatchObject({ step: "complete", percent: 1, type: "complete" });
    expect(done.progress!.message).toMatch(new RegExp(`^order fulfilled; parent ${parent.instance_id} not notified: `));

    const events = await history(id);
    expect(rolledBack(events)).toEqual([]);
    // A parent that does not exist is not asked again: one attempt, no retries.
    expect(attemptsOf(events, ORDER_STEPS.notifyParent)).toBe(1);
  });

  it("a failed notification is retried, and a parent that answers is notified", async () => {
    // The parent: any instance can receive the event; this one waits for approval meanwhile.
    const parentId = uniqueId("parent");
    expect((await api("POST", INSTANCES, { instance_id: parentId, params: largeOrder() })).status).toBe(201);
    const id = uniqueId("child");
    const parent = { workflow: "my-workflow" as const, instance_id: parentId, event_type: "child-report" };
    const instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await using _instance = instance;
    await instance.modify(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
      await m.mockStepError({ name: ORDER_STEPS.notifyParent }, new Error("Network connection lost."), 1);
    });
    expect((await api("POST", INSTANCES, { instance_id: id, params: smallOrder({ parent }) })).status).toBe(201);

    const done = await finished(id);
    expect(done.status).toBe("complete");
    expect((done.output as OrderOutput).parent).toEqual({ ...parent, notified: true });
    expect(done.progress!.message).toBe("order fulfilled");
    expect(attemptsOf(await history(id), ORDER_STEPS.notifyParent)).toBe(2);
  });

  it("an order that fails keeps its own error when its parent cannot be notified either", async () => {
    const id = uniqueId("fails-orphan");
    const parent = { workflow: "my-workflow", instance_id: uniqueId("nope"), event_type: "child-1" };
    await using _instance = await createOrder(id, smallOrder({ parent, simulate: { fail_step: "create shipment" } }));

    const done = await finished(id);
    expect(done.status).toBe("errored");
    expect(done.error!.message).toMatch(
      new RegExp(`^create shipment failed permanently \\(simulated\\); parent ${parent.instance_id} not notified: `),
    );
    // The failure is recorded, then each compensation, newest first.
    expect(done.milestones.slice(-3)).toMatchObject([
      { step: "failed", type: "error" },
      { step: ORDER_COMPENSATIONS.refund, type: "rollback" },
      { step: ORDER_COMPENSATIONS.release, type: "rollback" },
    ]);
    expect(rolledBack(await history(id))).toEqual([ORDER_STEPS.charge, ORDER_STEPS.reserve]);
  });

  it("refuses a parent that names no registered workflow, or an impossible instance id, at creation", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ workflow: "no-such-workflow", instance_id: "p-1", event_type: "x" }, "params.parent.workflow"],
      [{ workflow: "my-workflow", instance_id: "has space", event_type: "x" }, "params.parent.instance_id"],
      [{ workflow: "my-workflow", instance_id: "p-1", event_type: "a/b" }, "params.parent.event_type"],
    ];
    for (const [parent, field] of cases) {
      const id = uniqueId("bad-parent");
      const res = await api("POST", INSTANCES, { instance_id: id, params: { ...smallOrder(), parent } });
      expect(res.status, JSON.stringify(parent)).toBe(400);
      expect(res.body.errors[0]!.field).toBe(field);
      expect((await api("GET", `${INSTANCES}/${id}`)).status).toBe(404);
    }
  });
});
