import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { z } from "zod";
import { declareWorkflow } from "./declaration";
import { recordCreated } from "./instance-records";
import { parseParams } from "./params";

/** When and how a restock run was triggered (see `describeTrigger`). */
export const CronFiring = z.strictObject({
  cron: z.string().min(1).max(100),
  /** Milliseconds since the Unix epoch, as `ScheduledController.scheduledTime`. */
  scheduled_time: z.number().int().min(0),
});

/**
 * The params of RestockWorkflow. Every field is optional: a run created by the
 * binding's `schedules` gets no params at all.
 */
export const RestockParams = z
  .strictObject({
    skus: z.array(z.string().min(1).max(64)).min(1).max(100).default(["book-42", "mug-7"]).describe("SKUs to reorder"),
    /** Set by the Cron Trigger handler (src/triggers/scheduled.ts): the firing that started this run. */
    cron_trigger: CronFiring.optional(),
  })
  .prefault({});
export type RestockParamsInput = z.input<typeof RestockParams>;
export type RestockParams = z.output<typeof RestockParams>;

export const RESTOCK_EXAMPLE: RestockParamsInput = { skus: ["book-42"] };

export interface RestockTrigger {
  /** `schedules` on the workflow binding, the Worker's Cron Trigger, or a direct create. */
  source: "workflow schedule" | "cron trigger" | "direct";
  cron?: string;
  /** ISO 8601. */
  scheduled_time?: string;
}

export interface RestockOutput {
  trigger: RestockTrigger;
  skus: string[];
  purchase_order_id: string;
}

export const RESTOCK_STEPS = {
  plan: "plan restock",
  order: "place purchase order",
} as const;

/**
 * Which trigger started a run. A run created by `schedules` on the workflow binding
 * carries `event.schedule` (the matching cron and the trigger time); a run started
 * by the Worker's Cron Trigger handler carries the same facts in its params.
 */
export function describeTrigger(
  schedule: WorkflowEvent<unknown>["schedule"],
  params: Pick<RestockParams, "cron_trigger">,
): RestockTrigger {
  if (schedule) {
    return {
      source: "workflow schedule",
      cron: schedule.cron,
      scheduled_time: new Date(schedule.scheduledTime).toISOString(),
    };
  }
  if (params.cron_trigger) {
    return {
      source: "cron trigger",
      cron: params.cron_trigger.cron,
      scheduled_time: new Date(params.cron_trigger.scheduled_time).toISOString(),
    };
  }
  return { source: "direct" };
}

export const restockWorkflow = declareWorkflow({
  name: "restock-workflow",
  binding: "RESTOCK_WORKFLOW",
  description:
    "A periodic restock of a list of SKUs: runs from `schedules` on its binding, from the Worker's Cron Trigger, or when created here.",
  params: RestockParams,
  example: RESTOCK_EXAMPLE,
});

/**
 * A periodic restock: reorders a list of SKUs. It shows the two ways to run a
 * workflow on a schedule: `schedules` on its binding in wrangler.jsonc (the platform
 * creates each instance), and the Worker's Cron Trigger (`scheduled` handler), which
 * creates it with an id derived from the firing time. It can also be started like
 * any other workflow, through the API.
 */
export class RestockWorkflow extends WorkflowEntrypoint<Env, RestockParamsInput> {
  /** What the API, RPC and the dashboard know of it (src/workflows/registry.ts). */
  static readonly declaration = restockWorkflow;

  override async run(event: WorkflowEvent<RestockParamsInput>, step: WorkflowStep): Promise<RestockOutput> {
    const plan = await step.do(RESTOCK_STEPS.plan, async () => {
      const params = parseParams(RestockParams, event.payload);
      // A run that `schedules` started was created by the platform, not by a path of this
      // Worker that records what it creates: it records itself, so listings show it.
      if (event.schedule) {
        await recordCreated(this.env, restockWorkflow.name, [{ id: event.instanceId, status: "running" }], "schedule");
      }
      return { skus: params.skus, trigger: describeTrigger(event.schedule, params) };
    });

    // The supplier call would be keyed by the instance id, so a retry cannot order twice.
    const purchaseOrderId = await step.do(
      RESTOCK_STEPS.order,
      { retries: { limit: 3, delay: "5 seconds", backoff: "exponential" }, timeout: "1 minute" },
      async () => `po-${event.instanceId}`,
    );

    return { trigger: plan.trigger, skus: plan.skus, purchase_order_id: purchaseOrderId };
  }
}
