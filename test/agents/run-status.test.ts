import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SchedulerState, TrackedPage, TrackedWorkflow } from "../../src/agents/scheduler-views";
import { api, largeOrder, uniqueId } from "../helpers";
import { agentPath, schedulerStub } from "./agent-helpers";

const start = (name: string, body: unknown) => api<TrackedWorkflow>("POST", agentPath(name, "/workflows"), body);

describe("WorkflowScheduler: the status of a run", () => {
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

    const refreshed = await api<{ checked: number; changed: number }>("POST", agentPath(name, "/workflows/refresh"));
    expect(refreshed.status).toBe(200);
    const tracked = (await api<TrackedPage>("GET", agentPath(name, "/workflows"))).body.result!.workflows;
    expect(tracked.find((w) => w.id === orphan)).toMatchObject({ status: "running" });
    const state = (await api<SchedulerState>("GET", agentPath(name))).body.result!;
    expect(state.runs.find((r) => r.id === orphan)?.status).not.toBe("errored");
  });
});
