import type { WorkflowStep } from "cloudflare:workers";
import type { MilestoneReport } from "../shared/milestones";
import type { JsonValue } from "../shared/rpc-result";
import { recordMilestone } from "./instance-records";
import { type OriginReport, splitOrigin } from "./run-origin";

/** Report steps are named `report progress (<label>)`: one step per milestone. */
export const REPORT_STEP = "report progress";

export interface ReporterOptions {
  env: Env;
  step: WorkflowStep;
  /** The workflow's name (its declaration's `name`): the index the milestones go to. */
  workflow: string;
  /** The run's event: its instance id, and the origin an optional part added to its params (./run-origin.ts). */
  event: { instanceId: string; payload: unknown };
  /** Whether milestones go to that origin too, besides the instance index. Default true. */
  toOrigin?: boolean;
}

export interface Progress {
  /** Names the report's step: `report progress (<label>)`. */
  label: string;
  /** The workflow step reached (`reserve inventory`). */
  step: string;
  /** 0 to 1. */
  percent: number;
  message: string;
}

/**
 * How a workflow reports the milestones the platform does not know of (how far the order got,
 * in its own words). Each report is a `step.do` of its own, so a replay does not send it
 * again; it goes to the instance index (every front returns it as `progress` and
 * `milestones`) and to the run's origin, if a part started it and asked.
 *
 * Reports are best effort: a failed delivery is logged and returned, never thrown, so a
 * report never fails or retries the run. The reporter remembers only the last percent, which
 * a replay rebuilds by passing the same reports again.
 */
export function progressReporter({ env, step, workflow, event, toOrigin = true }: ReporterOptions) {
  const origin = toOrigin ? splitOrigin(event.payload).origin : undefined;
  let percent = 0;
  const send = async (label: string, milestone: MilestoneReport, report: OriginReport) => {
    percent = milestone.percent;
    await step.do(`${REPORT_STEP} (${label})`, async () => {
      const [index, delivered] = await Promise.all([
        recordMilestone(env, workflow, event.instanceId, milestone),
        origin?.deliver(env, event.instanceId, report),
      ]);
      return delivered ? { index, origin: delivered } : { index };
    });
  };
  return {
    /** The run reached `step`, `percent` of the way. */
    progress: ({ label, step: stepName, percent, message }: Progress) =>
      send(
        label,
        { step: stepName, percent, message, type: "progress" },
        { type: "progress", progress: { step: stepName, percent, message } },
      ),
    /** The run is about to return `result` (what its origin receives). */
    complete: ({ message, result = null }: { message: string; result?: JsonValue }) =>
      send("complete", { step: "complete", percent: 1, message, type: "complete" }, { type: "complete", result }),
    /**
     * The run is about to fail with `error`; the percent stays where the last report left it.
     * The error goes to the origin; the index records only that the run failed (the instance's
     * `error` is the platform's own).
     */
    failed: ({ error }: { error: string }) =>
      send("failed", { step: "failed", percent, message: "the run failed", type: "error" }, { type: "error", error }),
    /**
     * A rollback handler compensated a step: `compensation` names what it did (`refund
     * payment`). Call it from inside the handler, never from `run`: the engine runs each
     * handler as a durable, retried step of its own. Recording it again replaces the earlier
     * record, so a handler that runs twice leaves one.
     */
    compensated: async ({ compensation, message }: { compensation: string; message: string }): Promise<void> => {
      await recordMilestone(env, workflow, event.instanceId, {
        step: compensation,
        percent: 0,
        message,
        type: "rollback",
      });
    },
  };
}

export type ProgressReporter = ReturnType<typeof progressReporter>;
