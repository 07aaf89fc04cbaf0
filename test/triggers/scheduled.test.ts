import {
  createExecutionContext,
  createScheduledController,
  introspectWorkflow,
  introspectWorkflowInstance,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import entry from "../../src/index";
import { CRON_JOBS, cronInstanceId } from "../../src/triggers/scheduled";
import type { RestockOutput, RestockParamsInput } from "../../src/workflows/restock-workflow";
import { api, captureConsole, listedSince, waitForApiStatus } from "../helpers";
import { startedMatching } from "../workflow-history";

const CRON = "0 * * * *";
const handler: ExportedHandler<Env> = entry;

/** Runs the Worker's `scheduled` handler as a Cron Trigger would; returns what it logged. */
async function fireCron(cron: string, scheduledTime: number): Promise<string[]> {
  using logs = captureConsole();
  const ctx = createExecutionContext();
  await handler.scheduled!(createScheduledController({ cron, scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
  return logs.lines;
}

/** A firing time no other test here uses: consecutive whole hours. */
let hour = 0;
const nextFiring = () => Date.UTC(2031, 0, 1) + hour++ * 3600_000;

describe("Cron Trigger (scheduled handler)", () => {
  it("its job's instances are listed under the job's workflow, as started by cron", async () => {
    const since = new Date().toISOString();
    const scheduledTime = nextFiring();
    await fireCron(CRON, scheduledTime);
    const viaCron = cronInstanceId(CRON, scheduledTime);
    const listed = (await listedSince("restock-workflow", since)).find((i) => i.id === viaCron);
    expect(listed).toMatchObject({ started_by: "cron", trigger_source: "cron" });
    await waitForApiStatus("restock-workflow", viaCron, "complete");
  });

  it("starts one restock workflow per firing, with an id from the firing time", async () => {
    const scheduledTime = nextFiring();
    const id = cronInstanceId(CRON, scheduledTime);
    expect(id).toBe(`cron-restock-workflow-${new Date(scheduledTime).toISOString().replace(/[:.]/g, "-")}`);
    await using instance = await introspectWorkflowInstance(env.RESTOCK_WORKFLOW, id);

    expect(await fireCron(CRON, scheduledTime)).toEqual([`cron "${CRON}": started restock-workflow ${id}`]);
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({
      trigger: { source: "cron trigger", cron: CRON, scheduled_time: new Date(scheduledTime).toISOString() },
      skus: ["book-42", "mug-7"],
      purchase_order_id: `po-${id}`,
    } satisfies RestockOutput);
    const details = await api<{ started_by: string }>("GET", `/api/workflows/restock-workflow/instances/${id}`);
    expect(details.body.result!.started_by).toBe("cron");
  });

  it("a second delivery of the same firing starts nothing new", async () => {
    await using workflow = await introspectWorkflow(env.RESTOCK_WORKFLOW);
    const scheduledTime = nextFiring();
    const id = cronInstanceId(CRON, scheduledTime);
    await fireCron(CRON, scheduledTime);
    await waitForApiStatus("restock-workflow", id, "complete");

    // The handler does not fail on the repeat: the existing instance is the answer.
    expect(await fireCron(CRON, scheduledTime)).toEqual([
      `cron "${CRON}": ${id} already started by an earlier delivery`,
    ]);
    // Both firings have returned, so any instance they started is counted here: exactly
    // one was started for this firing time, under the firing's id.
    const ofThisFiring = (params: unknown) =>
      (params as RestockParamsInput | undefined)?.cron_trigger?.scheduled_time === scheduledTime;
    expect(await startedMatching(workflow, env.RESTOCK_WORKFLOW, ofThisFiring)).toEqual([id]);
    const after = await api<{ status: string; output: RestockOutput }>(
      "GET",
      `/api/workflows/restock-workflow/instances/${id}`,
    );
    expect(after.body.result).toMatchObject({ status: "complete", output: { purchase_order_id: `po-${id}` } });
  });

  it("a cron with no job starts nothing", async () => {
    const scheduledTime = nextFiring();
    expect(await fireCron("*/7 * * * *", scheduledTime)).toEqual([`cron "*/7 * * * *" has no job; known: ${CRON}`]);
    const res = await api(
      "GET",
      `/api/workflows/restock-workflow/instances/${cronInstanceId("*/7 * * * *", scheduledTime)}`,
    );
    expect(res.status).toBe(404);
  });

  it("every job's cron is a Cron Trigger in wrangler.jsonc, and the reverse", async () => {
    const config = (await import("../../wrangler.jsonc?raw")).default;
    const crons = /"triggers":\s*\{\s*"crons":\s*(\[[^\]]*\])/.exec(config)?.[1];
    expect(crons).toBeDefined();
    expect((JSON.parse(crons!) as string[]).sort()).toEqual(Object.keys(CRON_JOBS).sort());
  });
});

describe("schedules on the RESTOCK_WORKFLOW binding", () => {
  it("the binding declares its schedule", async () => {
    const config = (await import("../../wrangler.jsonc?raw")).default;
    const binding = /\{[^{}]*"binding":\s*"RESTOCK_WORKFLOW"[^{}]*\}/.exec(config)?.[0];
    expect(binding).toBeDefined();
    const schedules = /"schedules":\s*(\[[^\]]*\])/.exec(binding!)?.[1];
    expect(JSON.parse(schedules!)).toEqual(["0 3 * * *"]);
  });
});
