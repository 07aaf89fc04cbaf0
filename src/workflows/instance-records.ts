import type { MilestoneReport } from "../shared/milestones";

/**
 * What workflows, and every path that starts one, write to the instance index: the
 * `INSTANCE_INDEX` Durable Object, one object per workflow name (src/instances/instance-index.ts).
 * The Workflows binding cannot list instances, nor say how far a run got in the app's own terms,
 * so these records are what listings and `progress` are made of. Calls go through the binding,
 * so a workflow needs nothing of the instance core to make them.
 */

/** How an instance was started. */
export const TRIGGERS = ["api", "rpc", "agent", "parent", "cron", "schedule", "queue", "unknown"] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** The instance index of one workflow's instances (one Durable Object per workflow name). */
export function instanceIndex(env: Env, workflow: string) {
  return env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName(workflow));
}

/** Attempts at recording a created instance before giving up (and logging it). */
const RECORD_ATTEMPTS = 3;

/**
 * Records newly created instances; ids already recorded are left as they are, so a retried
 * step records nothing twice. The instances exist already, so a failure is retried, then
 * logged rather than thrown (a caller told "failed" would retry into a 409). An instance whose
 * record was lost is recorded by the first read of it, or by a create of its id that answers 409.
 */
export async function recordCreated(
  env: Env,
  workflow: string,
  created: { id: string; status: string }[],
  trigger: Trigger,
): Promise<void> {
  if (created.length === 0) return;
  const entries = created.map((c) => ({ id: c.id, status: c.status, trigger }));
  for (let attempt = 1; ; attempt++) {
    try {
      await instanceIndex(env, workflow).record(workflow, entries);
      return;
    } catch (error) {
      if (attempt < RECORD_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      console.error(`could not record ${created.length} instance(s) of ${workflow} in the index`, error);
      return;
    }
  }
}

/**
 * Records a milestone of instance `id` of `workflow`. Call it inside a `step.do` (it writes),
 * so a replay does not record it again. Best effort: progress is a view, so a failure is
 * logged and returned, never thrown, and the run carries on.
 */
export async function recordMilestone(
  env: Env,
  workflow: string,
  id: string,
  report: MilestoneReport,
): Promise<{ recorded: true } | { recorded: false; reason: string }> {
  try {
    await instanceIndex(env, workflow).recordMilestone(id, report);
    return { recorded: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`milestone ${report.step} of ${workflow}/${id} not recorded: ${reason}`);
    return { recorded: false, reason };
  }
}
