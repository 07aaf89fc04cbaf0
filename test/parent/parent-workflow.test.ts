import { introspectWorkflowInstance, type WorkflowInstanceIntrospector } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { ORDER_EXAMPLE } from "../../src/workflows/order-schema";
import type { ParentOutput } from "../../src/workflows/parent-workflow";
import { childEventType, childIds, PARENT_STEPS } from "../../src/workflows/parent-workflow";
import { api, uniqueId, waitForApiStatus } from "../helpers";
import { history, stepsStarted } from "../workflow-history";

/** Total of one child with the default items (ORDER_EXAMPLE): 2 x 1999 + 1250. */
const CHILD_TOTAL = 5248;

const startParent = (id: string, params: Record<string, unknown>) =>
  api("POST", "/api/workflows/parent-workflow/instances", {
    instance_id: id,
    params: { batch_id: id.slice(0, 40), customer_email: "grace@example.com", ...params },
  });

/** Introspects every child of a parent before it exists; children skip their settlement sleep. */
async function introspectChildren(parentId: string, count: number) {
  const ids = await childIds(parentId, count);
  const children: WorkflowInstanceIntrospector[] = [];
  for (const id of ids) {
    const child = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await child.modify(async (m) => m.disableSleeps());
    children.push(child);
  }
  return {
    ids,
    children,
    async [Symbol.asyncDispose]() {
      for (const child of children) await child.dispose();
    },
  };
}

const exists = async (workflow: string, id: string) =>
  (await api("GET", `/api/workflows/${workflow}/instances/${id}`)).status === 200;

describe("ParentWorkflow", () => {
  it("fans out N children with deterministic ids and aggregates their reports", async () => {
    const id = uniqueId("parent");
    await using kids = await introspectChildren(id, 3);
    await using parent = await introspectWorkflowInstance(env.PARENT_WORKFLOW, id);
    expect((await startParent(id, { children: 3 })).status).toBe(201);

    await parent.waitForStatus("complete");
    const output = (await parent.getOutput()) as ParentOutput;
    expect(output).toEqual({
      batch_id: id.slice(0, 40),
      waited: true,
      fulfilled: 3,
      failed: 0,
      total_cents: 3 * CHILD_TOTAL,
      children: kids.ids.map((childId) => ({ id: childId, outcome: "fulfilled", total_cents: CHILD_TOTAL })),
    });
    // The parent created the first step's worth of children, and no more.
    expect(await parent.waitForStepResult({ name: PARENT_STEPS.spawn })).toEqual({ ids: kids.ids, created: kids.ids });
    for (const [i, child] of kids.children.entries()) {
      expect(await child.getOutput()).toMatchObject({ order_id: `${id.slice(0, 40)}-${i + 1}`, outcome: "fulfilled" });
    }
    expect(await exists("my-workflow", `${id}-c4`)).toBe(false);
  });

  it("re-running the spawn step creates no child twice", async () => {
    const id = uniqueId("parent");
    await using kids = await introspectChildren(id, 2);
    await using parent = await introspectWorkflowInstance(env.PARENT_WORKFLOW, id);
    await startParent(id, { children: 2, children_timeout_seconds: 2 });
    await parent.waitForStatus("complete");
    for (const child of kids.children) await child.waitForStatus("complete");
    const firstRun = await history(env.PARENT_WORKFLOW, id);
    const firstEnd = firstRun.find((e) => e.type === "workflow_completed")!.timestamp;
    // The first run heard from both children: it read no status.
    expect(stepsStarted(firstRun)).not.toContain(PARENT_STEPS.collect);
    const childRuns = await Promise.all(kids.ids.map((childId) => history(env.MY_WORKFLOW, childId)));

    // Restart runs the parent from the top: its spawn step runs again, with the same
    // ids, while the children of the first run already exist (and have finished).
    const restarted = await api("PATCH", `/api/workflows/parent-workflow/instances/${id}/status`, {
      status: "restart",
    });
    expect(restarted.status).toBe(200);
    expect(restarted.body.result).toMatchObject({ id, status: "running" });
    const done = (await waitForApiStatus("parent-workflow", id, "complete", 15_000)) as InstanceDetails;

    // A new run, recorded after the first ended: the spawn ran again and met existing
    // ids, so it created nothing.
    const rerun = await history(env.PARENT_WORKFLOW, id);
    expect(rerun.filter((e) => e.timestamp <= firstEnd)).toEqual([]);
    expect(stepsStarted(rerun).filter((name) => name === PARENT_STEPS.spawn)).toHaveLength(1);
    expect(await parent.waitForStepResult({ name: PARENT_STEPS.spawn })).toEqual({ ids: kids.ids, created: [] });
    expect(await exists("my-workflow", `${id}-c3`)).toBe(false);
    // The children did not run again: their histories are as the first run left them.
    for (const [i, childId] of kids.ids.entries())
      expect(await history(env.MY_WORKFLOW, childId)).toEqual(childRuns[i]);
    // Finished children report no more, so this run's waits timed out, and it read their
    // statuses: the aggregate is right however the first run's reports fared.
    expect(rerun.filter((e) => e.type === "wait_timed_out")).toHaveLength(2);
    expect(stepsStarted(rerun)).toContain(PARENT_STEPS.collect);
    expect(done.output).toMatchObject({ fulfilled: 2, failed: 0, total_cents: 2 * CHILD_TOTAL });
    expect((done.output as ParentOutput).children.map((c) => c.id)).toEqual(kids.ids);
    expect(done.milestones.map((m) => m.message)).toEqual([
      "2 children started; waiting for their reports",
      "0 of 2 children reported; reading the status of 2",
      "2 of 2 children fulfilled",
    ]);
  });

  it("a spawn that finds some children already created creates only the rest", async () => {
    const id = uniqueId("parent");
    await using kids = await introspectChildren(id, 3);
    await using parent = await introspectWorkflowInstance(env.PARENT_WORKFLOW, id);
    const batchId = id.slice(0, 40);
    // What an earlier attempt of the spawn step would have left behind before failing.
    await env.MY_WORKFLOW.create({
      id: kids.ids[0]!,
      params: {
        order_id: `${batchId}-1`,
        customer_email: "grace@example.com",
        items: ORDER_EXAMPLE.items,
        approval_threshold_cents: 50_000,
        parent: { workflow: "parent-workflow", instance_id: id, event_type: childEventType(1) },
      },
    });
    await startParent(id, { children: 3 });
    await parent.waitForStatus("complete");
    expect(await parent.waitForStepResult({ name: PARENT_STEPS.spawn })).toEqual({
      ids: kids.ids,
      created: kids.ids.slice(1),
    });
    expect(await parent.getOutput()).toMatchObject({ fulfilled: 3, failed: 0, total_cents: 3 * CHILD_TOTAL });
  });

  it("a failed child and a terminated child count as failures, with why", async () => {
    const id = uniqueId("parent");
    const ids = await childIds(id, 3);
    await using parent = await introspectWorkflowInstance(env.PARENT_WORKFLOW, id);
    // Every child waits for approval (threshold 0): the first two get it at once.
    await using ok = await introspectWorkflowInstance(env.MY_WORKFLOW, ids[0]!);
    await ok.modify(async (m) => {
      await m.disableSleeps();
      await m.mockEvent({ type: "approval", payload: { approved: true, by: "test" } });
    });
    // The second one's payment is declined for good.
    await using declined = await introspectWorkflowInstance(env.MY_WORKFLOW, ids[1]!);
    await declined.modify(async (m) => {
      await m.disableSleeps();
      await m.mockEvent({ type: "approval", payload: { approved: true, by: "test" } });
      await m.mockStepError({ name: ORDER_STEPS.charge }, new NonRetryableError("card declined"));
    });
    // The third one is still waiting for approval when it is terminated.
    await using stopped = await introspectWorkflowInstance(env.MY_WORKFLOW, ids[2]!);
    await stopped.modify(async (m) => m.disableSleeps());

    await startParent(id, { children: 3, approval_threshold_cents: 0, children_timeout_seconds: 3 });
    await stopped.waitForStatus("running");
    await waitForApiStatus("my-workflow", ids[2]!, "running");
    const terminate = await api("PATCH", `/api/workflows/my-workflow/instances/${ids[2]}/status`, {
      status: "terminate",
    });
    expect(terminate.status).toBe(200);

    await declined.waitForStatus("errored");
    await parent.waitForStatus("complete");
    const output = (await parent.getOutput()) as ParentOutput;
    expect(output).toMatchObject({ fulfilled: 1, failed: 2, total_cents: CHILD_TOTAL });
    expect(output.children[0]).toEqual({ id: ids[0], outcome: "fulfilled", total_cents: CHILD_TOTAL });
    expect(output.children[1]).toMatchObject({
      id: ids[1],
      outcome: "errored",
      error: expect.stringContaining("card declined"),
    });
    expect(output.children[2]).toMatchObject({ id: ids[2], outcome: "terminated" });
  });

  it("a report that is not a child's report is not trusted", async () => {
    const id = uniqueId("parent");
    const ids = await childIds(id, 1);
    await using parent = await introspectWorkflowInstance(env.PARENT_WORKFLOW, id);
    // The child waits for an approval that never comes; someone else reports for it.
    await using child = await introspectWorkflowInstance(env.MY_WORKFLOW, ids[0]!);
    await child.modify(async (m) => m.disableSleeps());
    await startParent(id, { children: 1, approval_threshold_cents: 0 });
    await child.waitForStatus("running");
    const forged = { ok: true, child_id: ids[0], output: { outcome: "fulfilled", total_cents: -5 } };
    expect(
      (await api("POST", `/api/workflows/parent-workflow/instances/${id}/events/${childEventType(1)}`, forged)).status,
    ).toBe(202);
    await parent.waitForStatus("complete");
    expect(await parent.getOutput()).toMatchObject({
      fulfilled: 0,
      failed: 1,
      total_cents: 0,
      children: [{ id: ids[0], outcome: "errored", error: `invalid report on ${childEventType(1)}` }],
    });
  });

  it("without waiting, it starts the children and returns", async () => {
    const id = uniqueId("parent");
    await using kids = await introspectChildren(id, 2);
    await using parent = await introspectWorkflowInstance(env.PARENT_WORKFLOW, id);
    await startParent(id, { children: 2, wait_for_children: false });
    await parent.waitForStatus("complete");
    expect(await parent.getOutput()).toMatchObject({
      waited: false,
      fulfilled: 0,
      failed: 0,
      children: kids.ids.map((childId) => ({ id: childId, outcome: "started" })),
    });
    for (const child of kids.children) await child.waitForStatus("complete");
  });

  it("child ids stay within 100 characters for long parent ids", async () => {
    const ids = await childIds("p".repeat(100), 50);
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9_][a-zA-Z0-9-_]{0,99}$/);
    expect(await childIds("p".repeat(100), 2)).toEqual(ids.slice(0, 2));
  });

  it("a batch id that would make child order ids too long is refused up front", async () => {
    const res = await api("POST", "/api/workflows/parent-workflow/instances", {
      params: { batch_id: "b".repeat(62), customer_email: "grace@example.com", children: 50 },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe("params.batch_id");
  });
});
