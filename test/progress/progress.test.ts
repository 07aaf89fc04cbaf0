import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { InstanceIndex } from "../../src/instances/instance-index";
import type { InstanceDetails } from "../../src/instances/instances";
import { MAX_MESSAGE_CHARS, MAX_MILESTONES } from "../../src/instances/progress";
import type { RpcInstanceDetails } from "../../src/rpc/workflow-service";
import type { Milestone } from "../../src/shared/milestones";
import { unwrap } from "../../src/shared/rpc-result";
import { instanceIndex } from "../../src/workflows/instance-records";
import { ORDER_COMPENSATIONS, ORDER_STEPS } from "../../src/workflows/my-workflow";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { api, largeOrder, pollUntil, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { history, stepOf } from "../workflow-history";

const INSTANCES = "/api/workflows/my-workflow/instances";
const service = exports.WorkflowService;

/** Reads `GET .../instances/:id` until `accept` holds. */
const waitForDetails = (workflow: string, id: string, accept: (d: InstanceDetails) => boolean, timeoutMs = 15_000) =>
  pollUntil(
    async () => (await api<InstanceDetails>("GET", `/api/workflows/${workflow}/instances/${id}`)).body.result,
    (d): d is InstanceDetails => d !== null && accept(d),
    `${workflow}/${id} never matched`,
    timeoutMs,
  );

/** The same through WorkflowService.status (a real RPC call). */
const waitForRpcDetails = (id: string, accept: (d: RpcInstanceDetails) => boolean, timeoutMs = 15_000) =>
  pollUntil(
    async () => unwrap(await service.status("my-workflow", id)),
    accept,
    `my-workflow/${id} never matched over RPC`,
    timeoutMs,
  );

const steps = (milestones: Milestone[]) => milestones.map((m) => [m.step, m.percent, m.type]);
const atApproval = (d: { progress: Milestone | null }) => d.progress?.step === ORDER_STEPS.approval;

describe("progress of every instance, from the instance index", () => {
  it("an instance started through the HTTP API exposes its milestones as it advances", async () => {
    const id = uniqueId("prog-http");
    const since = new Date().toISOString();
    expect((await api("POST", INSTANCES, { instance_id: id, params: largeOrder() })).status).toBe(201);

    const waiting = await waitForDetails("my-workflow", id, atApproval);
    expect(waiting).toMatchObject({ status: "running", started_by: "api" });
    expect(waiting.progress).toEqual({
      step: ORDER_STEPS.approval,
      percent: 0.5,
      message: "waiting for approval",
      type: "progress",
      at: expect.any(String),
    });
    expect(steps(waiting.milestones)).toEqual([
      [ORDER_STEPS.reserve, 0.25, "progress"],
      [ORDER_STEPS.approval, 0.5, "progress"],
    ]);
    for (const m of waiting.milestones) expect(m.at >= since && !Number.isNaN(Date.parse(m.at))).toBe(true);

    expect((await api("POST", `${INSTANCES}/${id}/events/approval`, { approved: true, by: "lin" })).status).toBe(202);
    const done = await waitForDetails(
      "my-workflow",
      id,
      (d) => d.status === "complete" && d.progress?.type === "complete",
    );
    expect(steps(done.milestones)).toEqual([
      [ORDER_STEPS.reserve, 0.25, "progress"],
      [ORDER_STEPS.approval, 0.5, "progress"],
      [ORDER_STEPS.ship, 0.9, "progress"],
      ["complete", 1, "complete"],
    ]);
    expect(done.progress).toEqual(done.milestones.at(-1));
    expect(done.progress?.message).toBe("order fulfilled");
    // The milestones are in the order they were recorded.
    expect(done.milestones.map((m) => m.at)).toEqual(done.milestones.map((m) => m.at).sort());
  });

  it("an instance started through RPC exposes the same over RPC, as plain data", async () => {
    const created = unwrap(await service.create("my-workflow", { params: largeOrder() }));
    const waiting = await waitForRpcDetails(created.id, atApproval);
    // Typed as concrete data across RPC (a type mentioning `unknown` would be `never` here).
    const progress: Milestone | null = waiting.progress;
    expect(progress).toMatchObject({ step: ORDER_STEPS.approval, percent: 0.5 });
    expect(waiting.started_by).toBe("rpc");
    expect(waiting.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.approval]);

    unwrap(await service.sendEvent("my-workflow", created.id, "approval", { approved: false, by: "lin" }));
    const done = await waitForRpcDetails(created.id, (d) => d.status === "complete" && d.progress?.type === "complete");
    expect((done.output as unknown as OrderOutput).outcome).toBe("rejected");
    expect(done.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.approval, "complete"]);
    expect(done.progress).toMatchObject({ percent: 1, message: "approval rejected; stock released" });
  });

  it("an instance created through the binding directly (no creating path recorded it) still reports", async () => {
    const id = uniqueId("prog-direct");
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    const done = await waitForDetails("my-workflow", id, (d) => d.progress?.type === "complete");
    expect(done.started_by).toBe("unknown");
    expect(done.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.ship, "complete"]);
    // Reporting did not add it to the listing; reading it did (the index records an
    // instance the binding knows and it lacks), as started by `unknown`.
    const listed = await api<{ id: string; started_by: string }[]>("GET", `${INSTANCES}?per_page=100`);
    expect(listed.body.result!.filter((i) => i.id === id)).toEqual([
      expect.objectContaining({ id, started_by: "unknown", status: "complete" }),
    ]);
  });

  it("an order whose progress cannot be recorded still completes", async () => {
    const id = uniqueId("prog-broken");
    // A real fault in the index's storage, for this instance only: every write of its
    // progress row is refused by SQLite, so each report's call to the index throws.
    const trigger = `refuse_${id.replace(/-/g, "_")}`;
    await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) => {
      for (const op of ["INSERT", "UPDATE"]) {
        state.storage.sql.exec(
          `CREATE TRIGGER ${trigger}_${op} BEFORE ${op} ON progress WHEN NEW.id = '${id}'
           BEGIN SELECT RAISE(ABORT, 'progress storage refused (test)'); END`,
        );
      }
    });
    try {
      await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
      const done = await waitForApiStatus("my-workflow", id, "complete");
      expect((done.output as OrderOutput).outcome).toBe("fulfilled");
      const details = (await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!;
      expect(details.progress).toBeNull();
      expect(details.milestones).toEqual([]);
      // Each report step succeeded once, saying what it could not deliver.
      const events = await history(env.MY_WORKFLOW, id);
      const reports = events.flatMap((e) => (e.type === "step_completed" ? [stepOf(e.stepName)] : []));
      expect(reports.filter((name) => name.startsWith(ORDER_STEPS.report))).toEqual([
        `${ORDER_STEPS.report} (reserved)`,
        `${ORDER_STEPS.report} (shipped)`,
        `${ORDER_STEPS.report} (complete)`,
      ]);
      expect(events.some((e) => e.type === "attempt_errored")).toBe(false);
    } finally {
      await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) => {
        for (const op of ["INSERT", "UPDATE"]) state.storage.sql.exec(`DROP TRIGGER IF EXISTS ${trigger}_${op}`);
      });
    }
  });

  it("a full restart clears the old run's milestones; the new run reports its own", async () => {
    const id = uniqueId("prog-restart");
    await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    await waitForDetails("my-workflow", id, (d) => d.progress?.type === "complete");
    const restartedAt = new Date().toISOString();
    expect((await api("PATCH", `${INSTANCES}/${id}/status`, { status: "restart" })).status).toBe(200);
    const after = (await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!;
    for (const m of after.milestones) expect(m.at >= restartedAt).toBe(true);

    const done = await waitForDetails(
      "my-workflow",
      id,
      (d) => d.status === "complete" && d.progress?.type === "complete",
    );
    expect(done.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.ship, "complete"]);
    for (const m of done.milestones) expect(m.at >= restartedAt).toBe(true);
  });
});

describe("the approval wait", () => {
  it("an approval payload of the wrong shape, sent through the binding, fails the order and releases the stock", async () => {
    const id = uniqueId("prog-bad-approval");
    await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    await waitForDetails("my-workflow", id, atApproval);
    // The API refuses this payload (400 naming the field)...
    const refused = await api("POST", `${INSTANCES}/${id}/events/approval`, { approved: "yes", by: "lin" });
    expect(refused.status).toBe(400);
    // ...a caller holding the binding can still send it.
    await (await env.MY_WORKFLOW.get(id)).sendEvent({ type: "approval", payload: { approved: "yes", by: "lin" } });

    // Errored once the rollbacks have run.
    const failed = await waitForDetails("my-workflow", id, (d) => d.status === "errored");
    expect(failed.error?.name).toBe("NonRetryableError");
    expect(failed.error?.message).toMatch(/^invalid approval event payload: approved: /);
    expect(failed.milestones.map((m) => [m.step, m.percent, m.type])).toEqual([
      [ORDER_STEPS.reserve, 0.25, "progress"],
      [ORDER_STEPS.approval, 0.5, "progress"],
      ["failed", 0.5, "error"],
      [ORDER_COMPENSATIONS.release, 0, "rollback"],
    ]);
    expect(failed.milestones[2]!.message).toBe("the run failed");
    expect(failed.progress).toMatchObject({
      step: ORDER_COMPENSATIONS.release,
      message: `released reservation res-${id}`,
    });
    // It did not count as a decision: no release step (a rejection's path), and the
    // reservation was rolled back.
    const events = await history(env.MY_WORKFLOW, id);
    expect(events.some((e) => e.type === "step_started" && stepOf(e.stepName) === ORDER_STEPS.release)).toBe(false);
    expect(events.flatMap((e) => (e.type === "rollback_step_completed" ? [stepOf(e.stepName)] : []))).toEqual([
      ORDER_STEPS.reserve,
    ]);
  });

  it("a real timeout still expires the order, also when a restart from a later step replays the wait", async () => {
    const id = uniqueId("prog-expire");
    await api("POST", INSTANCES, { instance_id: id, params: largeOrder({ approval_timeout_seconds: 1 }) });
    const expired = await waitForDetails(
      "my-workflow",
      id,
      (d) => d.status === "complete" && d.progress?.type === "complete",
    );
    expect((expired.output as OrderOutput).outcome).toBe("expired");
    expect(expired.progress?.message).toBe("no approval in time; stock released");

    // Replayed, the wait rethrows the timeout the engine stored (as a plain Error, see
    // isWaitTimeout in my-workflow.ts): the order expires again, it does not fail.
    const restarted = await api("PATCH", `${INSTANCES}/${id}/status`, {
      status: "restart",
      from: { name: ORDER_STEPS.release },
    });
    expect(restarted.status).toBe(200);
    const again = await waitForDetails(
      "my-workflow",
      id,
      (d) => d.status === "complete" && d.progress?.type === "complete" && d.progress.at > expired.progress!.at,
    );
    expect((again.output as OrderOutput).outcome).toBe("expired");
    // The steps before the restart point keep their milestones; `complete` was recorded anew.
    expect(again.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.approval, "complete"]);
  });
});

describe("the index's progress table", () => {
  it("is added to an index whose storage predates it, and keeps the newest milestones", async () => {
    const stub = instanceIndex(env, uniqueId("old-index"));
    const log = await runInDurableObject(stub, (_index, state) => {
      // State from before progress existed: the instances table only.
      state.storage.sql.exec("DROP TABLE progress");
      const index = new InstanceIndex(state, env);
      for (let i = 1; i <= MAX_MILESTONES + 5; i++) {
        index.recordMilestone("i-1", {
          step: `step ${i}`,
          percent: i / 100,
          message: "x".repeat(MAX_MESSAGE_CHARS + 10),
          type: "progress",
        });
      }
      return index.milestones("i-1");
    });
    expect(log).toHaveLength(MAX_MILESTONES);
    expect(log[0]!.step).toBe("step 6");
    expect(log.at(-1)!.step).toBe(`step ${MAX_MILESTONES + 5}`);
    expect(log[0]!.message).toHaveLength(MAX_MESSAGE_CHARS);

    // A step reported again drops itself and everything after it.
    const rewound = await runInDurableObject(stub, (index: InstanceIndex) =>
      index.recordMilestone("i-1", { step: "step 10", percent: 0.1, message: "again", type: "progress" }),
    );
    expect(rewound.map((m) => m.step)).toEqual(["step 6", "step 7", "step 8", "step 9", "step 10"]);
    expect(rewound.at(-1)!.message).toBe("again");
  });
});
