import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import { PARENT_STEPS } from "../../src/workflows/parent-workflow";
import { api, pollUntil, uniqueId } from "../helpers";

const INSTANCES = "/api/workflows/my-workflow/instances";

/** Reads an instance through the API until `accept` holds (the same as test/progress does). */
const waitForDetails = (workflow: string, id: string, accept: (d: InstanceDetails) => boolean, timeoutMs = 15_000) =>
  pollUntil(
    async () => (await api<InstanceDetails>("GET", `/api/workflows/${workflow}/instances/${id}`)).body.result,
    (d): d is InstanceDetails => d !== null && accept(d),
    `${workflow}/${id}`,
    timeoutMs,
  );

describe("progress of a parent and its children, from the instance index", () => {
  it("a parent reports its own milestones, and its children theirs", async () => {
    const id = uniqueId("prog-parent");
    await api("POST", "/api/workflows/parent-workflow/instances", {
      instance_id: id,
      params: { batch_id: "P", customer_email: "ops@example.com", children: 2 },
    });
    const done = await waitForDetails(
      "parent-workflow",
      id,
      (d) => d.status === "complete" && d.progress?.type === "complete",
      25_000,
    );
    expect(done.milestones.map((m) => [m.step, m.percent, m.message])).toEqual([
      [PARENT_STEPS.spawn, 0.2, "2 children started; waiting for their reports"],
      [PARENT_STEPS.children, 0.9, "2 of 2 children reported"],
      ["complete", 1, "2 of 2 children fulfilled"],
    ]);
    const child = (await api<InstanceDetails>("GET", `${INSTANCES}/${id}-c1`)).body.result!;
    expect(child.started_by).toBe("parent");
    expect(child.milestones.map((m) => m.step)).toEqual([ORDER_STEPS.reserve, ORDER_STEPS.ship, "complete"]);
  });
});
