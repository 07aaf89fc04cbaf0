import { introspectWorkflowInstance } from "cloudflare:test";
import { env, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InstanceSummary } from "../../src/instances/listing";
import {
  describeTrigger,
  RESTOCK_STEPS,
  type RestockParamsInput,
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
 * So these tests cover what the workflow does with `event.schedule`, calling its `run` with the
 * event a schedule hands it where no binding can; test/triggers/scheduled.test.ts checks the
 * configuration.
 */

/**
 * A step that runs each callback once and returns its result, as the engine does on a first
 * run: for calling `run` with an event no binding can create locally (one carrying `schedule`).
 */
const firstRunStep = {
  do: async (_name: string, configOrCallback: unknown, callback?: () => Promise<unknown>) =>
    (callback ?? (configOrCallback as () => Promise<unknown>))(),
} as unknown as WorkflowStep;

/**
 * Runs RestockWorkflow's `run` as the platform would for `event`, against the real bindings.
 * `run` reads only `this.env`; the runtime constructs entrypoints itself, so it is called on
 * an object holding the test's `env`.
 */
const runRestock = (event: Partial<WorkflowEvent<RestockParamsInput>> & { instanceId: string }) =>
  RestockWorkflow.prototype.run.call(
    { env } as unknown as RestockWorkflow,
    { payload: undefined, timestamp: new Date(), ...event } as WorkflowEvent<RestockParamsInput>,
    firstRunStep,
  );
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

  it("a run a schedule started records itself in the index, once, as started by schedule", async () => {
    const since = new Date().toISOString();
    const scheduled = uniqueId("sched");
    const direct = uniqueId("direct");
    /** The listing's rows of restock-workflow created since the test began, with these ids. */
    const rows = async () => {
      const res = await api<InstanceSummary[]>(
        "GET",
        `/api/workflows/restock-workflow/instances?per_page=100&date_start=${encodeURIComponent(since)}`,
      );
      expect(res.status).toBe(200);
      return res.body.result!.filter((i) => i.id === scheduled || i.id === direct);
    };
    const schedule = { cron: "0 3 * * *", scheduledTime: Date.UTC(2030, 4, 1, 3, 0) };

    const output = await runRestock({ instanceId: scheduled, schedule });
    expect(output.trigger).toEqual({
      source: "workflow schedule",
      cron: "0 3 * * *",
      scheduled_time: "2030-05-01T03:00:00.000Z",
    });
    const once = await rows();
    expect(once).toEqual([expect.objectContaining({ id: scheduled, started_by: "schedule", trigger_source: "cron" })]);

    // The step run again (a retry): still one row, the first one, unchanged.
    await runRestock({ instanceId: scheduled, schedule });
    expect(await rows()).toEqual(once);
    // A run no schedule started is recorded by whoever created it, not by itself.
    expect((await runRestock({ instanceId: direct })).trigger).toEqual({ source: "direct" });
    expect(await rows()).toEqual(once);
  });
});
