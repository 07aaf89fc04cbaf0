import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedInstance, InstanceDetails, StatusChange } from "../../src/instances/instances";
import type { InstanceSummary } from "../../src/instances/listing";
import type { WorkflowInfo } from "../../src/instances/workflow-info";
import type { JsonValue } from "../../src/shared/rpc-result";
import { WORKFLOWS } from "../../src/workflows/registry";
import { api, uniqueId, waitForApiStatus } from "../helpers";

/**
 * Every workflow the registry holds, through the same paths, so a workflow added to
 * src/workflows/index.ts is exercised by these tests without one written for it: described
 * by the API as registered, its example run to completion (created, steered, read, listed),
 * created over RPC, and invalid params and event payloads refused at the edge.
 */
describe.each(WORKFLOWS.map((w) => [w.name, w] as const))("%s, as every workflow", (name, workflow) => {
  const instances = `/api/workflows/${name}/instances`;

  it("is described by GET /api/workflows and GET /api/workflows/:name as registered", async () => {
    const all = await api<WorkflowInfo[]>("GET", "/api/workflows?per_page=100");
    const listed = all.body.result!.find((w) => w.name === name);
    const one = await api<WorkflowInfo>("GET", `/api/workflows/${name}`);
    expect(one.status).toBe(200);
    // The same description (instance counts move as runs of other tests go on).
    const { instances: _a, triggered_on: _b, ...described } = one.body.result!;
    expect(listed).toMatchObject(described);
    expect(listed).toMatchObject({
      name,
      class_name: workflow.class_name,
      binding: workflow.binding,
      description: workflow.description,
      example_params: workflow.example,
      params_schema: expect.objectContaining({ type: "object" }),
    });
    expect(listed!.events.map((e) => e.type)).toEqual(Object.keys(workflow.events));
    // The example is valid params: the workflow's own schema accepts it.
    expect(workflow.params.safeParse(workflow.example).success).toBe(true);
  });

  it("runs its example to completion: created, steered, read and listed", async () => {
    const since = new Date().toISOString();
    const id = uniqueId("every");
    const created = await api<CreatedInstance>("POST", instances, { instance_id: id, params: workflow.example });
    expect(created.status).toBe(201);
    expect(created.body.result).toMatchObject({ id, workflow: name, status: "queued", trigger_source: "api" });

    // Steered at once: paused then resumed, unless it has already finished (a short run can).
    const paused = await api<StatusChange>("PATCH", `${instances}/${id}/status`, { status: "pause" });
    if (paused.status === 200) {
      expect(paused.body.result!.status).toMatch(/^(paused|waitingForPause)$/);
      const resumed = await api<StatusChange>("PATCH", `${instances}/${id}/status`, { status: "resume" });
      expect(resumed.status).toBe(200);
    } else {
      expect(paused.status).toBe(409);
      expect(paused.body.errors[0]!.message).toBe(`cannot pause instance ${id}: it is complete`);
    }

    const done = (await waitForApiStatus(name, id, "complete", 20_000)) as InstanceDetails;
    expect(done).toMatchObject({ id, workflow: name, status: "complete", started_by: "api", success: true });
    expect(done.output).toBeDefined();
    // A finished instance cannot be steered any more.
    const late = await api("PATCH", `${instances}/${id}/status`, { status: "terminate" });
    expect(late.status).toBe(409);

    const page = await api<InstanceSummary[]>(
      "GET",
      `${instances}?per_page=100&date_start=${encodeURIComponent(since)}`,
    );
    expect(page.status).toBe(200);
    expect(page.body.result!.find((row) => row.id === id)).toMatchObject({
      workflow: name,
      status: "complete",
      started_by: "api",
    });
  });

  it("is created and read over RPC (WorkflowService) as well", async () => {
    const id = uniqueId("every-rpc");
    const created = await exports.WorkflowService.create(name, {
      instance_id: id,
      params: workflow.example as JsonValue,
    });
    expect(created).toMatchObject({ ok: true, result: { id, workflow: name, trigger_source: "binding" } });
    const read = await exports.WorkflowService.status(name, id);
    expect(read).toMatchObject({ ok: true, result: { id, workflow: name, started_by: "rpc" } });
    await waitForApiStatus(name, id, "complete", 20_000);
  });

  it("refuses invalid params, and keys its schema does not name, before anything is created", async () => {
    const example = workflow.example as Record<string, unknown>;
    for (const params of ["not an object", { ...example, __not_a_field: 1 }, { ...example, __agentName: "a" }]) {
      const id = uniqueId("every-bad");
      const res = await api("POST", instances, { instance_id: id, params });
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.body.errors[0]!.field).toMatch(/^params/);
      expect((await api("GET", `${instances}/${id}`)).status).toBe(404);
    }
  });

  const events = Object.keys(workflow.events);
  if (events.length === 0) return;
  it.each(events.map((type) => [type]))(
    "checks a %s event's payload against its schema before sending it",
    async (type) => {
      // Every payload schema is a zod object (declareWorkflow refuses others), so an array is refused.
      const res = await api("POST", `${instances}/${uniqueId("no-such")}/events/${type}`, ["not", "an", "object"]);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]!.field).toMatch(/^payload/);
    },
  );
});
