import { describe, expect, it } from "vitest";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { api, largeOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";

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

  it("restarts from a step the instance ran", async () => {
    const id = uniqueId("from-step");
    await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    await waitForApiStatus("my-workflow", id, "complete");

    const res = await restartFrom(id, { name: ORDER_STEPS.charge });
    expect(res.status).toBe(200);
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as { output?: { payment_id?: string } };
    expect(done.output?.payment_id).toBe(`pay-${id}`);
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
