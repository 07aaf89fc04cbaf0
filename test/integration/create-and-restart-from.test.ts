import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { api, fulfilledSmallOrder, largeOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { attemptsOf, history, stepOf } from "../workflow-history";

const INSTANCES = "/api/workflows/my-workflow/instances";

describe("POST /api/workflows/:name/instances answers like the REST API", () => {
  it("answers queued for a new instance, whose own status is then read live", async () => {
    const created = await api<{ id: string; status: string }>("POST", INSTANCES, { params: largeOrder() });
    expect(created.status).toBe(201);
    expect(created.body.result).toMatchObject({ status: "queued", workflow_id: "my-workflow", trigger_source: "api" });

    const id = created.body.result!.id;
    // Large orders wait for an approval: the live status moves on from queued.
    await waitForApiStatus("my-workflow", id, "running");
  });

  it("answers queued for every instance of a batch, with chosen ids and without", async () => {
    const id = uniqueId("batch-queued");
    const res = await api<{ id: string; status: string }[]>("POST", `${INSTANCES}/batch`, [
      { instance_id: id, params: smallOrder() },
      { params: smallOrder() },
    ]);
    expect(res.status).toBe(201);
    expect(res.body.result?.map((r) => r.status)).toEqual(["queued", "queued"]);
    expect(res.body.result?.[0]?.id).toBe(id);
    for (const created of res.body.result!) await waitForApiStatus("my-workflow", created.id, "complete");
  });
});

describe("PATCH .../status with restart from a step", () => {
  const restartFrom = (id: string, from: unknown) =>
    api("PATCH", `${INSTANCES}/${id}/status`, { status: "restart", from });

  it("restarts from a step the instance ran: that step and those after it run again, none before", async () => {
    const id = uniqueId("from-step");
    await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    const first = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    const firstRun = await history(env.MY_WORKFLOW, id);
    const firstEnd = firstRun.find((e) => e.type === "workflow_completed")!.timestamp;

    const res = await restartFrom(id, { name: ORDER_STEPS.charge });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ id, status: "running" });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect(done.output).toEqual(fulfilledSmallOrder(id));

    // Each step appears once: those before `charge payment` as the first run recorded
    // them, `charge payment` and every later step started anew after the first run ended.
    const events = await history(env.MY_WORKFLOW, id);
    const startedAt = (e: WorkflowInstanceEvent) => (e.timestamp > firstEnd ? "again" : "kept");
    expect(
      events.flatMap((e) =>
        e.type === "step_started" || e.type === "sleep_started" ? [[stepOf(e.stepName), startedAt(e)]] : [],
      ),
    ).toEqual([
      [ORDER_STEPS.validate, "kept"],
      [ORDER_STEPS.reserve, "kept"],
      [`${ORDER_STEPS.report} (reserved)`, "kept"],
      [ORDER_STEPS.settle, "kept"],
      [ORDER_STEPS.charge, "again"],
      [ORDER_STEPS.ship, "again"],
      [`${ORDER_STEPS.report} (shipped)`, "again"],
      [`${ORDER_STEPS.report} (complete)`, "again"],
    ]);
    expect(attemptsOf(events, ORDER_STEPS.charge)).toBe(1);
    expect(events.filter((e) => e.type === "workflow_completed").map(startedAt)).toEqual(["again"]);
    // The milestone of the step before the restart point is kept; the later ones are new.
    const [reserved, ...rest] = done.milestones;
    expect(reserved).toEqual(first.milestones[0]);
    expect(rest.map((m) => m.step)).toEqual([ORDER_STEPS.ship, "complete"]);
    for (const m of rest) expect(m.at > first.progress!.at).toBe(true);
  });

  it("answers 400 on from.name for a step the instance never ran, and leaves the instance alone", async () => {
    const id = uniqueId("from-unknown");
    await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    await waitForApiStatus("my-workflow", id, "complete");

    const res = await restartFrom(id, { name: "no such step" });
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.errors[0]).toMatchObject({ code: 40000, field: "from.name" });
    expect(res.body.errors[0]?.message).toContain("execution history");

    const after = await api<{ status: string }>("GET", `${INSTANCES}/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.result?.status).toBe("complete");
  });
});
