import { introspectWorkflow, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ScheduleView, TrackedWorkflow } from "../../src/agents/scheduler-views";
import { findWorkflow } from "../../src/workflows/declaration";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { api, largeOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { isOrder, startedMatching } from "../workflow-history";
import { agentPath, allSchedules, connect, fireSchedule, schedulerStub, waitForTracked } from "./agent-helpers";

const schedule = (name: string, body: unknown) => api<ScheduleView>("POST", agentPath(name, "/schedules"), body);
const start = (name: string, body: unknown) => api<TrackedWorkflow>("POST", agentPath(name, "/workflows"), body);

describe("WorkflowScheduler: schedules", () => {
  it("a delayed schedule fires on its own alarm and its workflow completes", async () => {
    const name = uniqueId("agent");
    const res = await schedule(name, {
      workflow: "my-workflow",
      params: smallOrder({ order_id: "delayed-1" }),
      delay_seconds: 1,
    });
    expect(res.status).toBe(201);
    const created = res.body.result!;
    expect(created).toMatchObject({ workflow: "my-workflow", type: "delayed", delay_seconds: 1 });

    // Nothing is moved here: the Durable Object alarm fires after one real second.
    const page = await waitForTracked(name, (p) => p.workflows.length === 1);
    const tracked = page.workflows[0]!;
    expect(tracked).toMatchObject({ id: `sched-${created.id}`, source: "schedule", schedule_id: created.id });
    const done = await waitForApiStatus("my-workflow", tracked.id, "complete");
    expect((done.output as OrderOutput).order_id).toBe("delayed-1");

    // A one-shot schedule is gone once it ran.
    const left = await api<ScheduleView[]>("GET", agentPath(name, "/schedules"));
    expect(left.body.result).toEqual([]);
  });

  it("a date schedule fires at its date", async () => {
    const name = uniqueId("agent");
    const at = new Date(Date.now() + 3600_000).toISOString();
    const res = await schedule(name, {
      workflow: "my-workflow",
      params: smallOrder(),
      at,
      instance_id: uniqueId("at"),
    });
    expect(res.status).toBe(201);
    expect(res.body.result).toMatchObject({ type: "scheduled", next_run_at: at.replace(/\.\d+Z$/, ".000Z") });
    await fireSchedule(name, res.body.result!.id);
    const page = await waitForTracked(name, (p) => p.workflows.length === 1);
    expect(page.workflows[0]!.id).toBe(res.body.result!.instance_id);
    await waitForApiStatus("my-workflow", res.body.result!.instance_id!, "complete");
  });

  it("a cron schedule starts one workflow per firing and stays scheduled", async () => {
    const name = uniqueId("agent");
    const res = await schedule(name, { workflow: "my-workflow", params: smallOrder(), cron: "*/15  * * * *" });
    expect(res.status).toBe(201);
    const cron = res.body.result!;
    expect(cron).toMatchObject({ type: "cron", cron: "*/15 * * * *" });
    expect(Date.parse(cron.next_run_at)).toBeGreaterThan(Date.now());
    expect(new Date(cron.next_run_at).getUTCMinutes() % 15).toBe(0);

    // Two firings a minute apart, as the cron would make them.
    await fireSchedule(name, cron.id, Date.now() - 120_000);
    await waitForTracked(name, (p) => p.total === 1);
    await fireSchedule(name, cron.id, Date.now() - 60_000);
    const page = await waitForTracked(name, (p) => p.total === 2);

    const ids = page.workflows.map((w) => w.id);
    expect(new Set(ids).size).toBe(2);
    for (const w of page.workflows) {
      expect(w).toMatchObject({ source: "schedule", schedule_id: cron.id });
      expect(w.id).toMatch(new RegExp(`^sched-${cron.id}-\\d+$`));
      await waitForApiStatus("my-workflow", w.id, "complete");
    }
    // Rescheduled for its next occurrence, not removed.
    const left = (await api<ScheduleView[]>("GET", agentPath(name, "/schedules"))).body.result!;
    expect(left).toHaveLength(1);
    expect(Date.parse(left[0]!.next_run_at)).toBeGreaterThan(Date.now());
  });

  it("holds at most 10 cron schedules, each firing again and again; one-shots still fit", async () => {
    const name = uniqueId("agent");
    for (let minute = 0; minute < 10; minute++) {
      const res = await schedule(name, {
        workflow: "restock-workflow",
        params: { skus: ["a"] },
        cron: `${minute} 3 * * *`,
      });
      expect(res.status).toBe(201);
    }
    const eleventh = await schedule(name, {
      workflow: "restock-workflow",
      params: { skus: ["a"] },
      cron: "10 3 * * *",
    });
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.errors[0]!.message).toMatch(/already holds 10 cron schedules/);
    const oneShot = await schedule(name, {
      workflow: "restock-workflow",
      params: { skus: ["a"] },
      delay_seconds: 3600,
    });
    expect(oneShot.status).toBe(201);
    expect((await api<ScheduleView[]>("GET", agentPath(name, "/schedules"))).body.result).toHaveLength(11);
  });

  it("scheduling the same cron twice keeps one schedule", async () => {
    const name = uniqueId("agent");
    const body = { workflow: "restock-workflow", params: { skus: ["a"] }, cron: "0 6 * * 1" };
    const first = await schedule(name, body);
    const second = await schedule(name, body);
    expect(second.body.result!.id).toBe(first.body.result!.id);
    expect((await api<ScheduleView[]>("GET", agentPath(name, "/schedules"))).body.result).toHaveLength(1);
  });

  it("a cancelled schedule never fires, even once its time has passed", async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const name = uniqueId("agent");
    const cancelledOrder = uniqueId("cancelled");
    const controlOrder = uniqueId("control");
    const res = await schedule(name, {
      workflow: "my-workflow",
      params: smallOrder({ order_id: cancelledOrder }),
      delay_seconds: 1,
    });
    expect(res.status).toBe(201);
    const id = res.body.result!.id;
    // A control schedule due a second later: once it has fired, the Agent's alarm has
    // run past the cancelled schedule's time, so no clock is read here.
    const control = (
      await schedule(name, {
        workflow: "my-workflow",
        params: smallOrder({ order_id: controlOrder }),
        delay_seconds: 2,
      })
    ).body.result!;

    const cancel = await api("DELETE", agentPath(name, `/schedules/${id}`));
    expect(cancel.status).toBe(200);
    expect(cancel.body.result).toEqual({ id, cancelled: true });
    expect((await api<ScheduleView[]>("GET", agentPath(name, "/schedules"))).body.result!.map((s) => s.id)).toEqual([
      control.id,
    ]);
    expect((await api("DELETE", agentPath(name, `/schedules/${id}`))).status).toBe(404);

    // The alarms fire on their own; the control's start is tracked.
    const page = await waitForTracked(name, (p) => p.total >= 1);
    expect(page.workflows.map((w) => w.id)).toEqual([`sched-${control.id}`]);
    // One more alarm run, if any is set, starts nothing either.
    await runDurableObjectAlarm(schedulerStub(name));
    expect((await api<{ total: number }>("GET", agentPath(name, "/workflows"))).body.result!.total).toBe(1);
    // And the platform started only the control: nothing carries the cancelled order.
    expect(await startedMatching(workflow, env.MY_WORKFLOW, isOrder(cancelledOrder))).toEqual([]);
    expect(await startedMatching(workflow, env.MY_WORKFLOW, isOrder(controlOrder))).toEqual([`sched-${control.id}`]);
    expect((await api("GET", `/api/workflows/my-workflow/instances/sched-${id}`)).status).toBe(404);
  });

  it("the status refresh cannot be cancelled as a workflow schedule", async () => {
    const name = uniqueId("agent");
    await start(name, { workflow: "my-workflow", params: largeOrder() });
    const schedules = await allSchedules(name);
    const refresh = schedules.find((s) => s.callback === "checkWorkflowStatuses")!;
    expect(refresh).toMatchObject({ type: "cron", cron: "*/5 * * * *" });
    expect((await api("DELETE", agentPath(name, `/schedules/${refresh.id}`))).status).toBe(404);
    expect((await api<ScheduleView[]>("GET", agentPath(name, "/schedules"))).body.result).toEqual([]);
  });
});

describe("WorkflowScheduler: tracked workflows", () => {
  it("lists tracked workflows with a status filter, in pages", async () => {
    const name = uniqueId("agent");
    const small = [];
    for (let i = 0; i < 3; i++) {
      const res = await start(name, { workflow: "my-workflow", params: smallOrder({ order_id: `s-${i}` }) });
      expect(res.status).toBe(201);
      expect(res.body.result).toMatchObject({ workflow: "my-workflow", status: "queued", source: "request" });
      small.push(res.body.result!.id);
    }
    const waiting = (await start(name, { workflow: "my-workflow", params: largeOrder(), instance_id: uniqueId("big") }))
      .body.result!;
    for (const id of small) await waitForApiStatus("my-workflow", id, "complete");

    // Completion reaches the tracking table through MyWorkflow's report to the Agent.
    const complete = await waitForTracked(name, (p) => p.total === 3, "?status=complete&limit=2&order=asc");
    expect(complete.workflows).toHaveLength(2);
    expect(complete.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const rest = await api<{ workflows: TrackedWorkflow[]; next_cursor: string | null }>(
      "GET",
      // The cursor is URL-safe as it is.
      agentPath(name, `/workflows?status=complete&limit=2&order=asc&cursor=${complete.next_cursor}`),
    );
    expect(rest.body.result!.workflows).toHaveLength(1);
    expect(rest.body.result!.next_cursor).toBeNull();
    const paged = [...complete.workflows, ...rest.body.result!.workflows].map((w) => w.id);
    expect(paged.sort()).toEqual([...small].sort());

    const active = await waitForTracked(name, (p) => p.total === 1, "?status=running,waiting,queued");
    expect(active.workflows[0]!.id).toBe(waiting.id);
    const all = await api<{ total: number }>("GET", agentPath(name, "/workflows?workflow=my-workflow"));
    expect(all.body.result!.total).toBe(4);
    const none = await api<{ total: number }>("GET", agentPath(name, "/workflows?workflow=restock-workflow"));
    expect(none.body.result!.total).toBe(0);
  });

  it("a workflow id that is taken is a 409", async () => {
    const name = uniqueId("agent");
    const id = uniqueId("dup");
    expect((await start(name, { workflow: "my-workflow", params: smallOrder(), instance_id: id })).status).toBe(201);
    const again = await start(name, { workflow: "my-workflow", params: smallOrder(), instance_id: id });
    expect(again.status).toBe(409);
    // Taken outside the Agent too: the platform refuses, the core maps it.
    const elsewhere = await start(uniqueId("agent"), {
      workflow: "my-workflow",
      params: smallOrder(),
      instance_id: id,
    });
    expect(elsewhere.status).toBe(409);
  });

  it("the cron status refresh catches a workflow terminated from outside", async () => {
    const name = uniqueId("agent");
    const id = (await start(name, { workflow: "my-workflow", params: largeOrder() })).body.result!.id;
    await waitForTracked(name, (p) => p.workflows[0]?.status === "running");
    const terminated = await api("PATCH", `/api/workflows/my-workflow/instances/${id}/status`, { status: "terminate" });
    expect(terminated.status).toBe(200);
    // A terminated instance runs no more code, so it never reports; the tracking row is stale.
    expect((await waitForTracked(name, () => true)).workflows[0]!.status).toBe("running");

    const refresh = (await allSchedules(name)).find((s) => s.callback === "checkWorkflowStatuses")!;
    await fireSchedule(name, refresh.id);
    const page = await waitForTracked(name, (p) => p.workflows[0]?.status === "terminated", "?status=terminated");
    expect(page.workflows[0]).toMatchObject({ id, completed_at: expect.any(String) });
    // Nothing is active any more, so the refresh removed its own cron.
    expect((await allSchedules(name)).filter((s) => s.callback === "checkWorkflowStatuses")).toEqual([]);
    // And the state clients see says so.
    const state = await api<{ runs: { id: string; status: string }[] }>("GET", agentPath(name));
    expect(state.body.result!.runs.find((r) => r.id === id)?.status).toBe("terminated");
  });

  it("POST .../workflows/refresh refreshes on demand", async () => {
    const name = uniqueId("agent");
    const id = (await start(name, { workflow: "restock-workflow", params: { skus: ["refresh-1"] } })).body.result!.id;
    // RestockWorkflow reports no milestones, so nothing tells the Agent: only a refresh sees it finish.
    await waitForApiStatus("restock-workflow", id, "complete");
    const res = await api<{ checked: number; changed: number }>("POST", agentPath(name, "/workflows/refresh"));
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ checked: 1, changed: 1 });
    expect((await waitForTracked(name, () => true)).workflows[0]).toMatchObject({
      id,
      workflow: "restock-workflow",
      status: "complete",
    });
  });
});

describe("WorkflowScheduler: WebSocket clients", () => {
  it("a connected client sees progress and completion as Agent state", async () => {
    const name = uniqueId("agent");
    const client = await connect(name);
    // The state on connect comes first.
    await client.waitForState((s) => Array.isArray(s.runs));

    const id = (await start(name, { workflow: "my-workflow", params: smallOrder({ order_id: "ws-1" }) })).body.result!
      .id;
    const progressed = await client.waitForState((s) => client.run(s, id)?.progress?.step === "reserve inventory");
    expect(client.run(progressed, id)).toMatchObject({ status: "running", progress: { percent: 0.25 } });
    const done = await client.waitForState((s) => client.run(s, id)?.status === "complete");
    expect(client.run(done, id)!.output).toMatchObject({ order_id: "ws-1", outcome: "fulfilled", total_cents: 3000 });

    // Progress arrived in order, and never after completion.
    const seen = client.states.map((s) => client.run(s, id)).filter((r) => r !== undefined);
    const percents = seen.map((r) => r.progress?.percent ?? 0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(seen.at(-1)!.status).toBe("complete");
    client.close();
  });

  it("a client sees a scheduled workflow wait for approval", async () => {
    const name = uniqueId("agent");
    const client = await connect(name);
    const res = await schedule(name, { workflow: "my-workflow", params: largeOrder(), delay_seconds: 60 });
    await fireSchedule(name, res.body.result!.id);
    const id = `sched-${res.body.result!.id}`;
    const waiting = await client.waitForState((s) => client.run(s, id)?.progress?.step === "wait for approval");
    expect(client.run(waiting, id)!.progress).toEqual({
      step: "wait for approval",
      percent: 0.5,
      message: "waiting for approval",
    });
    client.close();
  });

  it("clients are read-only: a state sent by a client is refused", async () => {
    const name = uniqueId("agent");
    const client = await connect(name);
    await client.waitForState(() => true);
    // The SDK's protocol message for a client-side setState().
    client.send({ type: "cf_agent_state", state: { runs: [{ id: "forged" }] } });
    const deadline = Date.now() + 5000;
    while (!client.messages.some((m) => m.type === "cf_agent_state_error") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(client.messages.find((m) => m.type === "cf_agent_state_error")).toBeDefined();
    const res = await api("GET", agentPath(name));
    expect(res.body.result).toEqual({ runs: [] });
    client.close();
  });
});

// Only while the parent workflow is part of this Worker (npm run remove -- parent takes it out).
describe.runIf(findWorkflow("parent-workflow"))("WorkflowScheduler and ParentWorkflow", () => {
  it("a parent the Agent started reports nothing to it: only a refresh sees it finish", async () => {
    const name = uniqueId("agent");
    const id = (
      await start(name, {
        workflow: "parent-workflow",
        params: { batch_id: "b", customer_email: "a@example.com", children: 1, wait_for_children: false },
      })
    ).body.result!.id;
    await waitForApiStatus("parent-workflow", id, "complete");
    const res = await api<{ checked: number; changed: number }>("POST", agentPath(name, "/workflows/refresh"));
    expect(res.body.result).toEqual({ checked: 1, changed: 1 });
    expect((await waitForTracked(name, () => true)).workflows[0]).toMatchObject({
      id,
      workflow: "parent-workflow",
      status: "complete",
    });
  });
});
