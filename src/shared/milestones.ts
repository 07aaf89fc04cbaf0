/**
 * The milestones a workflow reports about its run, as the instance index records them and
 * every front returns them (`progress` and `milestones` of an instance). Types only.
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
