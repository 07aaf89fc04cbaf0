import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { indexOf } from "../../src/workflows/records";
import {
  describeTrigger,
  RESTOCK_STEPS,
  type RestockOutput,
  RestockWorkflow,
} from "../../src/workflows/restock-workflow";
import { api, uniqueId } from "../helpers";

/**
 * `schedules` on a workflow binding are run by the Workflows platform once deployed.
 * The local runtime (wrangler 4.164, miniflare 5.20261102, @cloudflare/vitest-plugin 1.5)
 * accepts the setting but never fires it, and nothing local can create an instance whose
 * event carries `schedule`:
 * - wrangler's `workflowEntry` (wrangler-dist/cli.js), which builds Miniflare's `workflows`
 *   option for `wrangler dev` and for this plugin (`unstable_getMiniflareWorkerOptions`),
 *   passes name, className, scriptName and the step limit, not `schedules`; Miniflare's
 *   `workflows` option schema has no such field either;
 * - Miniflare's `WorkflowBinding` (src/workers/workflows/binding.worker.js) builds every
 *   event as `{ timestamp, payload, instanceId, workflowName }`, and the introspection
 *   modifiers change step results, errors, events and timers, never the event itself.
 * So these tests cover what the workflow does with `event.schedule`; test/triggers/scheduled.test.ts
 * checks the configuration.
 */
describe("schedules on the RESTOCK_WORKFLOW binding", () => {
  it("a run created by a schedule reports the cron and time it fired for", () => {
    const scheduledTime = Date.UTC(2030, 4, 1, 3, 0);
    expect(describeTrigger({ cron: "0 3 * * *", scheduledTime }, {})).toEqual({
      source: "workflow schedule",
      cron: "0 3 * * *",
      scheduled_time: "2030-05-01T03:00:00.000Z",
    });
    // event.schedule wins over params that claim a Cron Trigger.
    expect(
      describeTrigger({ cron: "0 3 * * *", scheduledTime }, { cron_trigger: { cron: "0 * * * *", scheduled_time: 0 } })
        .source,
    ).toBe("workflow schedule");
  });

  it("a run a schedule started records itself in the instance index, as started by `schedule`", async () => {
    // No local path creates an event that carries `schedule` (see above), so the workflow's
    // own run is called with one, as the platform would call it, and its steps run in place:
    // each step's callback once, as an engine's first attempt runs it.
    const id = uniqueId("scheduled");
    const scheduledTime = Date.UTC(2030, 4, 1, 3, 0);
    const event = {
      payload: {},
      timestamp: new Date(scheduledTime),
      instanceId: id,
      workflowName: "restock-workflow",
      schedule: { cron: "0 3 * * *", scheduledTime },
    };
    const stepsInPlace = {
      do: (_name: string, configOrCallback: unknown, callback?: unknown) =>
        ((typeof configOrCallback === "function" ? configOrCallback : callback) as () => Promise<unknown>)(),
      sleep: async () => {},
      sleepUntil: async () => {},
      waitForEvent: async () => {
        throw new Error("a restock waits for no event");
      },
    } as unknown as Parameters<RestockWorkflow["run"]>[1];
    // Only the runtime constructs a WorkflowEntrypoint: this is an instance of the class as
    // the engine gets one, with the Worker's env.
    const workflow = Object.create(RestockWorkflow.prototype, { env: { value: env } }) as RestockWorkflow;
    const output = (await workflow.run(event, stepsInPlace)) as RestockOutput;
    expect(output.trigger).toMatchObject({ source: "workflow schedule", cron: "0 3 * * *" });
    expect(await indexOf(env, "restock-workflow").get(id)).toMatchObject({ id, trigger: "schedule" });
    const listed = await api<{ started_by: string }[]>("GET", "/api/workflows/restock-workflow/instances?per_page=100");
    expect(listed.body.result!.find((i) => (i as unknown as { id: string }).id === id)).toMatchObject({
      started_by: "schedule",
    });
  });

  it("a scheduled run gets no params: the workflow runs on its defaults", async () => {
    // What the platform creates for a schedule: no id of ours, no params.
    const created = await env.RESTOCK_WORKFLOW.create();
    await using instance = await introspectWorkflowInstance(env.RESTOCK_WORKFLOW, created.id);
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({
      trigger: { source: "direct" },
      skus: ["book-42", "mug-7"],
      purchase_order_id: `po-${created.id}`,
    });
  });

  it("it can be started through the API like any workflow, and rejects bad params", async () => {
    const id = uniqueId("restock");
    await using instance = await introspectWorkflowInstance(env.RESTOCK_WORKFLOW, id);
    const res = await api("POST", "/api/workflows/restock-workflow/instances", {
      instance_id: id,
      params: { skus: ["tea-1"] },
    });
    expect(res.status).toBe(201);
    await instance.waitForStatus("complete");
    expect(await instance.waitForStepResult({ name: RESTOCK_STEPS.order })).toBe(`po-${id}`);
    const bad = await api("POST", "/api/workflows/restock-workflow/instances", { params: { skus: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]!.field).toBe("params.skus");
  });
});
