import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { splitAgentOrigin } from "./agent-report";
import { recordIfScheduled } from "./records";
import { type RestockOutput, RestockParams, type RestockParamsInput, type RestockTrigger } from "./restock-schema";
import { validateParams } from "./validate-params";

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

/**
 * A periodic restock: reorders a list of SKUs. It shows the two ways to run a
 * workflow on a schedule: `schedules` on its binding in wrangler.jsonc (the platform
 * creates each instance), and the Worker's Cron Trigger (`scheduled` handler), which
 * creates it with an id derived from the firing time. It can also be started like
 * any other workflow, through the API.
 */
export class RestockWorkflow extends WorkflowEntrypoint<Env, RestockParamsInput> {
  override async run(event: WorkflowEvent<RestockParamsInput>, step: WorkflowStep): Promise<RestockOutput> {
    const plan = await step.do(RESTOCK_STEPS.plan, async () => {
      const params = validateParams(RestockParams, splitAgentOrigin(event.payload).params);
      await recordIfScheduled(this.env, "restock-workflow", event);
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
