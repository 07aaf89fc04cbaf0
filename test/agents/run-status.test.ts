import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RunView, SchedulerState, TrackedPage, TrackedWorkflow } from "../../src/agents/scheduler-views";
import type { WorkflowScheduler } from "../../src/agents/workflow-scheduler";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { api, captureConsole, largeOrder, pollUntil, uniqueId } from "../helpers";
import { agentPath, schedulerStub, waitForTracked } from "./agent-helpers";

const start = (name: string, body: unknown) => api<TrackedWorkflow>("POST", agentPath(name, "/workflows"), body);

/** Polls the Agent's state (GET /agents/workflow-scheduler/:name) until run `id` satisfies `accept`. */
const waitForRun = (name: string, id: string, accept: (run: RunView | undefined) => boolean, what: string) =>
  pollUntil(
    async () => (await api<SchedulerState>("GET", agentPath(name))).body.result!.runs.find((r) => r.id === id),
    accept,
    `run ${id} ${what}`,
    15_000,
  );

const approve = (id: string) =>
  api("POST", `/api/workflows/my-workflow/instances/${id}/events/approval`, { approved: true, by: "lin" });

describe("WorkflowScheduler: the status of a run", () => {
  it("shows a restarted run running again, while a late report of the old run cannot revive it", async () => {
    const name = uniqueId("agent");
    const id = uniqueId("restarted");
    const startedAt = Date.now();
    expect((await start(name, { workflow: "my-workflow", params: largeOrder(), instance_id: id })).status).toBe(201);
    await waitForRun(name, id, (r) => r?.progress?.step === ORDER_STEPS.approval, "waits for approval");
    expect((await approve(id)).status).toBe(202);
    await waitForRun(name, id, (r) => r?.status === "complete", "completes");

    // A report the old run made before it finished, arriving late: the run stays finished.
    await runInDurableObject(schedulerStub(name), (agent: WorkflowScheduler) =>
      agent.handleWorkflowReport("MY_WORKFLOW", id, {
        type: "progress",
        progress: { step: ORDER_STEPS.ship, percent: 0.9, message: "shipment created" },
        at: startedAt,
      }),
    );
    const after = (await api<SchedulerState>("GET", agentPath(name))).body.result!.runs.find((r) => r.id === id)!;
    expect(after).toMatchObject({ status: "complete", output: { outcome: "fulfilled" } });

    // Restarted from outside the Agent (the instance API): the new run reports from its first milestone.
    const restarted = await api("PATCH", `/api/workflows/my-workflow/instances/${id}/status`, { status: "restart" });
    expect(restarted.status).toBe(200);
    const running = await waitForRun(
      name,
      id,
      (r) => r?.status === "running" && r.progress?.step === ORDER_STEPS.approval,
      "shows the new run waiting for approval",
    );
    expect(running?.progress).toEqual({ step: ORDER_STEPS.approval, percent: 0.5, message: "waiting for approval" });
    // The tracked workflow says so too (GET .../workflows), so the status refresh polls it again.
    const page = await waitForTracked(name, (p) => p.workflows.some((w) => w.id === id), "?status=running,waiting");
    expect(page.workflows.find((w) => w.id === id)).toMatchObject({ status: "running" });
    expect(page.workflows.find((w) => w.id === id)?.completed_at).toBeUndefined();

    // And the new run finishes as runs do.
    expect((await approve(id)).status).toBe(202);
    await waitForRun(name, id, (r) => r?.status === "complete", "completes again");
    await waitForTracked(name, (p) => p.workflows.some((w) => w.id === id), "?status=complete");
  });

  it("shows a restarted run running again in its tracked workflow when the state no longer holds the run", async () => {
    const name = uniqueId("agent");
    const id = uniqueId("restarted");
    expect((await start(name, { workflow: "my-workflow", params: largeOrder(), instance_id: id })).status).toBe(201);
    await waitForRun(name, id, (r) => r?.progress?.step === ORDER_STEPS.approval, "waits for approval");
    expect((await approve(id)).status).toBe(202);
    const complete = await waitForTracked(name, (p) => p.workflows.some((w) => w.id === id), "?status=complete");
    // The state keeps only the latest runs; this one has gone out of it.
    await runInDurableObject(schedulerStub(name), (agent: WorkflowScheduler) => agent.setState({ runs: [] }));
    // The tracking row keeps whole seconds: a report within the second the run finished
    // counts as the old run's, so the restart comes after it.
    const finished = Date.parse(complete.workflows.find((w) => w.id === id)!.completed_at!);
    await pollUntil(
      async () => Date.now(),
      (now) => now >= finished + 1000,
      "the clock did not pass a second",
      2000,
    );

    const restarted = await api("PATCH", `/api/workflows/my-workflow/instances/${id}/status`, { status: "restart" });
    expect(restarted.status).toBe(200);
    await waitForTracked(name, (p) => p.workflows.some((w) => w.id === id), "?status=running,waiting");
    const run = await waitForRun(name, id, (r) => r?.progress?.step === ORDER_STEPS.approval, "waits again");
    expect(run).toMatchObject({ status: "running" });
    expect(run?.output).toBeUndefined();
  });

  it("a status it cannot read (a workflow binding renamed away) does not mark a live run errored", async () => {
    const name = uniqueId("agent");
    // One tracked run first, so the Agent and its tables exist.
    expect((await start(name, { workflow: "my-workflow", params: largeOrder() })).status).toBe(201);
    // A run tracked under a binding this Worker no longer has (the SDK's migrateWorkflowBinding
    // exists for that case): reading its status fails with "binding ... not found", which
    // says nothing about the instance.
    const orphan = uniqueId("renamed");
    await runInDurableObject(schedulerStub(name), (_agent, state) => {
      state.storage.sql.exec(
        "INSERT INTO cf_agents_workflows (id, workflow_id, workflow_name, status) VALUES (?, ?, 'OLD_WORKFLOW', 'running')",
        crypto.randomUUID(),
        orphan,
      );
    });

    using logs = captureConsole();
    const refreshed = await api<{ checked: number; changed: number }>("POST", agentPath(name, "/workflows/refresh"));
    expect(refreshed.status).toBe(200);
    expect(logs.lines).toContainEqual(expect.stringMatching(`^status of ${orphan} unavailable .*OLD_WORKFLOW`));
    const tracked = (await api<TrackedPage>("GET", agentPath(name, "/workflows"))).body.result!.workflows;
    expect(tracked.find((w) => w.id === orphan)).toMatchObject({ status: "running" });
    const state = (await api<SchedulerState>("GET", agentPath(name))).body.result!;
    expect(state.runs.find((r) => r.id === orphan)?.status).not.toBe("errored");
  });
});
