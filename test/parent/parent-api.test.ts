import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import type { WorkflowInfo } from "../../src/instances/workflow-info";
import type { ParentOutput } from "../../src/workflows/parent-workflow";
import { api, listedSince, uniqueId, waitForApiStatus } from "../helpers";

describe("ParentWorkflow through the API", () => {
  it("is described by GET /api/workflows", async () => {
    const res = await api<WorkflowInfo[]>("GET", "/api/workflows");
    const parent = res.body.result!.find((w) => w.name === "parent-workflow");
    expect(parent).toMatchObject({ name: "parent-workflow", class_name: "ParentWorkflow", binding: "PARENT_WORKFLOW" });
  });

  it("fans out children and aggregates their outputs", async () => {
    const id = uniqueId("parent");
    const res = await api("POST", "/api/workflows/parent-workflow/instances", {
      instance_id: id,
      params: { batch_id: "b1", customer_email: "ops@example.com", children: 2 },
    });
    expect(res.status).toBe(201);
    const done = (await waitForApiStatus("parent-workflow", id, "complete", 20_000)) as InstanceDetails;
    const output = done.output as ParentOutput;
    expect(output).toMatchObject({ batch_id: "b1", waited: true, fulfilled: 2, failed: 0 });
    expect(output.children.map((c) => c.id)).toEqual([`${id}-c1`, `${id}-c2`]);
  });

  it("its children are listed as started by the parent, created through the binding", async () => {
    const since = new Date().toISOString();
    const parentId = uniqueId("lp");
    await api("POST", "/api/workflows/parent-workflow/instances", {
      instance_id: parentId,
      params: { batch_id: "L", customer_email: "ops@example.com", children: 2 },
    });
    await waitForApiStatus("parent-workflow", parentId, "complete", 20_000);
    const children = (await listedSince("my-workflow", since)).filter((i) => i.id.startsWith(`${parentId}-`));
    expect(children.map((i) => i.id).sort()).toEqual([`${parentId}-c1`, `${parentId}-c2`]);
    for (const child of children) {
      expect(child).toMatchObject({
        started_by: "parent",
        trigger_source: "binding",
        workflow_id: "my-workflow",
        version_id: env.CF_VERSION_METADATA.id,
      });
    }
  });
});
