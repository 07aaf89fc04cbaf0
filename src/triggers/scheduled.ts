import { createInstance } from "../instances/instances";
import { InstanceError } from "../shared/errors";
import type { RestockParamsInput } from "../workflows/restock-workflow";

/** The Cron Triggers of this Worker and what each starts. Keep in step with `triggers.crons` in wrangler.jsonc. */
export const CRON_JOBS: Record<string, { workflow: string }> = {
  "0 * * * *": { workflow: "restock-workflow" },
};

/**
 * The instance id of one firing. A Cron Trigger can be delivered more than once;
 * the id derives from the scheduled time, so a repeat finds the instance of the
 * first delivery (409 from the instance core) instead of starting another.
 */
export const cronInstanceId = (cron: string, scheduledTime: number) =>
  `cron-${CRON_JOBS[cron]?.workflow ?? "job"}-${new Date(scheduledTime).toISOString().replace(/[:.]/g, "-")}`;

/** The `scheduled` handler: one workflow instance per firing, through the instance core. */
export async function onScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const job = CRON_JOBS[controller.cron];
  if (!job) {
    console.warn(`cron "${controller.cron}" has no job; known: ${Object.keys(CRON_JOBS).join(", ")}`);
    return;
  }
  const id = cronInstanceId(controller.cron, controller.scheduledTime);
  const params: RestockParamsInput = {
    cron_trigger: { cron: controller.cron, scheduled_time: controller.scheduledTime },
  };
  try {
    await createInstance(env, job.workflow, { instance_id: id, params }, "cron");
    console.log(`cron "${controller.cron}": started ${job.workflow} ${id}`);
  } catch (error) {
    if (error instanceof InstanceError && error.kind === "conflict") {
      console.log(`cron "${controller.cron}": ${id} already started by an earlier delivery`);
      return;
    }
    // Anything else is a fault: throwing marks the invocation failed in the logs.
    throw error;
  }
}
