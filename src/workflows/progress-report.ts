import type { WorkflowStep } from "cloudflare:workers";
import type { MilestoneReport } from "../shared/milestones";
import type { JsonValue } from "../shared/rpc-result";
import type { OriginReport, RunOrigin } from "./hooks";
import { recordMilestone } from "./records";

/** Report steps are named `report progress (<label>)`: one step per milestone. */
export const REPORT_STEP = "report progress";

/**
 * How a workflow reports its milestones: each in one `step.do`, so a replay does not
 * report it again, to the instance index (every instance: `GET .../instances/:id`
 * returns them as `progress` and `milestones`) and, for a run whose origin asked for them
 * (a part that started it: see ./hooks.ts), to that origin too.
 *
 * Both deliveries are best effort: each logs its failure and the step returns what was
 * delivered, so a report never fails (or retries) the step, nor the instance. Code
 * between steps must be deterministic: the reporter only remembers the last percent,
 * which a replay rebuilds by passing the same reports again.
 */
export function progressReporter(
  env: Env,
  step: WorkflowStep,
  workflow: string,
  instanceId: string,
  origin?: RunOrigin,
) {
  let percent = 0;
  const send = async (label: string, milestone: MilestoneReport, toOrigin: OriginReport) => {
    percent = milestone.percent;
    await step.do(`${REPORT_STEP} (${label})`, async () => {
      const [index, delivered] = await Promise.all([
        recordMilestone(env, workflow, instanceId, milestone),
        origin?.deliver(env, instanceId, toOrigin),
      ]);
      return delivered ? { index, origin: delivered } : { index };
    });
  };
  return {
    /** The run reached `stepName`: `fraction` of the way (0 to 1). */
    progress: (label: string, stepName: string, fraction: number, message: string) =>
      send(
        label,
        { step: stepName, percent: fraction, message, type: "progress" },
        {
          type: "progress",
          progress: { step: stepName, percent: fraction, message },
        },
      ),
    /** The run is about to return `result` (what its origin receives). */
    complete: (message: string, result: JsonValue = null) =>
      send("complete", { step: "complete", percent: 1, message, type: "complete" }, { type: "complete", result }),
    /** The run is about to fail with `error`; the percent stays where the last report left it. */
    failed: (error: string) =>
      send("failed", { step: "failed", percent, message: error, type: "error" }, { type: "error", error }),
    /**
     * A rollback handler compensated a step: `compensation` names what it did (`refund
     * payment`), at percent 0 (the progress it undid). Call it from inside the handler, never
     * from `run`: the engine runs each handler as a durable, retried step of its own, so this
     * needs no `step.do`. Recorded in the instance index only (an origin learns how a run
     * ended from its status). Recording a compensation again replaces the earlier record,
     * so a handler that runs twice leaves one.
     */
    compensated: async (compensation: string, message: string): Promise<void> => {
      await recordMilestone(env, workflow, instanceId, { step: compensation, percent: 0, message, type: "rollback" });
    },
  };
}

export type ProgressReporter = ReturnType<typeof progressReporter>;
