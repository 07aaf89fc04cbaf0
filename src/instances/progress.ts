import { indexOf } from "./listing";

/**
 * Progress of an instance, kept server-side in the instance index (one Durable Object
 * per workflow, table `progress`), so every instance has it, however it was started
 * (HTTP API, RPC, queue, cron, a parent, the Agent, or the binding directly), and it
 * survives a page reload. The Workflows binding gives status, output and error only:
 * a workflow reports its own milestones, each from inside a `step.do`.
 */

/**
 * What a workflow reports. `progress`: it reached a step; `complete` / `error`: it ended;
 * `rollback`: a rollback handler compensated a step after the run failed or was
 * terminated with rollback.
 */
export type MilestoneType = "progress" | "complete" | "error" | "rollback";

export interface MilestoneReport {
  /**
   * The step reached, by its name in the workflow (`wait for approval`), `complete` / `failed`,
   * or for a `rollback` the compensation made (`refund payment`).
   */
  step: string;
  /** 0 to 1. */
  percent: number;
  message: string;
  type: MilestoneType;
}

/** A milestone as recorded: the report plus when the index recorded it (ISO 8601). */
export interface Milestone extends MilestoneReport {
  at: string;
}

/** The newest milestones kept per instance (older ones are dropped). */
export const MAX_MILESTONES = 20;
export const MAX_STEP_CHARS = 100;
export const MAX_MESSAGE_CHARS = 500;

/** Bounds a report, so a long error message cannot grow the index. */
export function boundReport(report: MilestoneReport): MilestoneReport {
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}\u2026` : text);
  const percent = Number.isFinite(report.percent) ? Math.min(1, Math.max(0, report.percent)) : 0;
  return {
    step: clip(String(report.step), MAX_STEP_CHARS),
    percent,
    message: clip(String(report.message), MAX_MESSAGE_CHARS),
    type: report.type,
  };
}

/**
 * Records a milestone of instance `id` of `workflow`. Call it inside a `step.do` (it
 * writes), so a replay does not record it again. Best effort: progress is a view, so a
 * failure is logged and returned, never thrown, and the instance carries on.
 */
export async function recordMilestone(
  env: Env,
  workflow: string,
  id: string,
  report: MilestoneReport,
): Promise<{ recorded: true } | { recorded: false; reason: string }> {
  try {
    await indexOf(env, workflow).recordMilestone(id, report);
    return { recorded: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`milestone ${report.step} of ${workflow}/${id} not recorded: ${reason}`);
    return { recorded: false, reason };
  }
}
