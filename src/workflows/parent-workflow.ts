import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { z } from "zod";
import { declareWorkflow } from "./declaration";
import { recordCreated } from "./instance-records";
import { ORDER_EXAMPLE, OrderItem, type OrderParamsInput } from "./order-schema";
import { parseParams } from "./params";
import { isAlreadyExists } from "./platform-errors";
import { type ProgressReporter, progressReporter, REPORT_STEP } from "./progress-report";
import { isWaitTimeout } from "./step-errors";

export const ParentParams = z.strictObject({
  // Child order ids are `<batch_id>-<n>` (n <= 50) and must fit MyWorkflow's 64-character order_id.
  batch_id: z.string().min(1).max(61).describe("Your reference for this batch of orders"),
  customer_email: z.email(),
  /** How many child orders to fan out. */
  children: z.number().int().min(1).max(50).default(3),
  items: z.array(OrderItem).min(1).max(100).default(ORDER_EXAMPLE.items),
  /**
   * Fan-in: when true the parent waits for every child to report, then returns an
   * aggregate. When false it only starts them and moves on (fire and forget).
   */
  wait_for_children: z.boolean().default(true),
  children_timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(600),
  /** Passed to each child: orders above it wait for approval. */
  approval_threshold_cents: z.number().int().min(0).default(50_000),
});
export type ParentParamsInput = z.input<typeof ParentParams>;
export type ParentParams = z.output<typeof ParentParams>;

export const PARENT_EXAMPLE: ParentParamsInput = {
  batch_id: "batch-7",
  customer_email: "grace@example.com",
  children: 3,
};

export interface ChildSummary {
  id: string;
  outcome: "started" | "fulfilled" | "rejected" | "expired" | "errored" | "terminated" | "timed_out";
  total_cents?: number;
  error?: string;
}
export interface ParentOutput {
  batch_id: string;
  children: ChildSummary[];
  waited: boolean;
  fulfilled: number;
  failed: number;
  total_cents: number;
}

/** The part of a child's output the parent aggregates. */
export const ChildOutput = z.looseObject({
  outcome: z.enum(["fulfilled", "rejected", "expired"]),
  total_cents: z.number().int().min(0),
});

/**
 * Anyone holding the API token can send an event to a parent, so the parent checks
 * a report before it trusts it.
 */
export const ChildReportSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), child_id: z.string(), output: ChildOutput }),
  z.object({ ok: z.literal(false), child_id: z.string(), error: z.string().max(10_000) }),
]);

export const PARENT_STEPS = {
  validate: "validate batch",
  spawn: "start children",
  continue: "continue with other work",
  waitFor: (index: number) => `wait for child ${index}`,
  collect: "collect unreported children",
  /** The milestone the fan-in reports (not a step of its own). */
  children: "wait for children",
  /** `report progress (children started)`, `(children reported)`, `(complete)`. */
  report: REPORT_STEP,
} as const;

/** The event type child `index` reports with. */
export const childEventType = (index: number) => `child-${index}`;

/**
 * Child ids derive from the parent's id, so the spawn step can be retried, or the
 * whole parent replayed, without ever starting a child twice: a second create of
 * the same id is refused by the platform and we treat that as "already started".
 * Ids stay within the 100-character limit.
 */
export async function childIds(parentId: string, count: number): Promise<string[]> {
  let prefix = parentId;
  if (parentId.length > 90) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parentId));
    prefix = `p${[...new Uint8Array(digest)]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("")
      .slice(0, 40)}`;
  }
  return Array.from({ length: count }, (_, i) => `${prefix}-c${i + 1}`);
}

export const parentWorkflow = declareWorkflow({
  name: "parent-workflow",
  binding: "PARENT_WORKFLOW",
  description:
    "Fans out child orders (MyWorkflow) with deterministic ids, then optionally waits for each child to report and returns an aggregate.",
  params: ParentParams,
  example: PARENT_EXAMPLE,
  // Children report with `child-<n>` events; they are sent by MyWorkflow, not by people.
});

export class ParentWorkflow extends WorkflowEntrypoint<Env, ParentParamsInput> {
  /** What the API, RPC and the dashboard know of it (src/workflows/registry.ts). */
  static readonly declaration = parentWorkflow;

  override async run(event: WorkflowEvent<ParentParamsInput>, step: WorkflowStep): Promise<ParentOutput> {
    const batch = await step.do(PARENT_STEPS.validate, async () => parseParams(ParentParams, event.payload));
    // Milestones go to the instance index only: whoever started a parent learns how it went from its status.
    const report = progressReporter({ env: this.env, step, workflow: parentWorkflow.name, event, toOrigin: false });

    // Creating instances is a side effect, so it lives in a step. createBatch starts
    // up to 100 at once and reports each id it could not create. "Already exists" means
    // an earlier attempt of this step created it (the step may fail, or its result be
    // lost, after the children were created): that is the idempotency we want. Any
    // other error fails the step, which retries it.
    const { ids } = await step.do(
      PARENT_STEPS.spawn,
      { retries: { limit: 5, delay: "1 second", backoff: "exponential" }, timeout: "1 minute" },
      async () => {
        const ids = await childIds(event.instanceId, batch.children);
        const { created, errors } = await this.env.MY_WORKFLOW.createBatch({
          instances: ids.map((id, i) => ({
            id,
            params: {
              order_id: `${batch.batch_id}-${i + 1}`,
              customer_email: batch.customer_email,
              items: batch.items,
              approval_threshold_cents: batch.approval_threshold_cents,
              parent: batch.wait_for_children
                ? { workflow: "parent-workflow", instance_id: event.instanceId, event_type: childEventType(i + 1) }
                : undefined,
            } satisfies OrderParamsInput,
          })),
        });
        const failed = errors.filter((e) => !isAlreadyExists(e.message));
        if (failed.length) {
          throw new Error(
            `could not start ${failed.length} child(ren): ${failed.map((e) => `${e.id}: ${e.message}`).join("; ")}`,
          );
        }
        // Recording ignores ids already recorded, so a retried step records nothing twice.
        await recordCreated(
          this.env,
          "my-workflow",
          ids.map((id) => ({ id, status: "queued" })),
          "parent",
        );
        // `created` lists what this attempt started: fewer than `ids` on a retry.
        return { ids, created: created.map((c) => c.id) };
      },
    );

    // The children run on their own; the parent is not blocked by them.
    await step.do(PARENT_STEPS.continue, async () => ({ started: ids.length }));
    await report.progress({
      label: "children started",
      step: PARENT_STEPS.spawn,
      percent: 0.2,
      message: `${ids.length} children started${batch.wait_for_children ? "; waiting for their reports" : ""}`,
    });

    if (!batch.wait_for_children) {
      return this.finish(
        report,
        summarize(
          batch.batch_id,
          false,
          ids.map((id) => ({ id, outcome: "started" as const })),
        ),
      );
    }

    // Fan-in: one wait per child, all in parallel, each on its own event type so an
    // event that is delivered twice resolves nothing new. Events sent before the wait
    // starts are buffered by the platform.
    const timeout = batch.children_timeout_seconds * 1000;
    const reports = await Promise.all(
      ids.map((id, i) =>
        step
          .waitForEvent(PARENT_STEPS.waitFor(i + 1), { type: childEventType(i + 1), timeout })
          .then((e): ChildSummary => {
            const signal = ChildReportSchema.safeParse(e.payload);
            if (!signal.success || signal.data.child_id !== id) {
              return { id, outcome: "errored", error: `invalid report on ${childEventType(i + 1)}` };
            }
            if (!signal.data.ok) return { id, outcome: "errored", error: signal.data.error };
            return { id, outcome: signal.data.output.outcome, total_cents: signal.data.output.total_cents };
          })
          // A child that does not report in time is looked at below; anything else (the engine
          // pausing the run) goes on up.
          .catch((error) => {
            if (isWaitTimeout(error)) return undefined;
            throw error;
          }),
      ),
    );

    // A child that did not report in time may still be running, may have been
    // terminated (terminated instances run no more code, so never report), or may
    // have finished with its report lost. Its status says which: read it once, in a
    // step, so a replay sees the same answer.
    const missing = ids.filter((_, i) => !reports[i]);
    await report.progress({
      label: "children reported",
      step: PARENT_STEPS.children,
      percent: 0.9,
      message: `${ids.length - missing.length} of ${ids.length} children reported${missing.length ? `; reading the status of ${missing.length}` : ""}`,
    });
    const late = missing.length
      ? await step.do(PARENT_STEPS.collect, async () => Promise.all(missing.map((id) => this.childStatus(id))))
      : [];

    const children = ids.map((id, i) => reports[i] ?? late.find((c) => c.id === id)!);
    return this.finish(report, summarize(batch.batch_id, true, children));
  }

  private async finish(report: ProgressReporter, output: ParentOutput): Promise<ParentOutput> {
    await report.complete({
      message: output.waited
        ? `${output.fulfilled} of ${output.children.length} children fulfilled`
        : `${output.children.length} children started, not awaited`,
    });
    return output;
  }

  /** What a child's status says about it, for one that did not report. */
  private async childStatus(id: string): Promise<ChildSummary> {
    let status: InstanceStatus;
    try {
      status = await (await this.env.MY_WORKFLOW.get(id)).status();
    } catch (error) {
      return {
        id,
        outcome: "timed_out",
        error: `no report, status unavailable: ${error instanceof Error ? error.message : error}`,
      };
    }
    switch (status.status) {
      case "complete": {
        const output = ChildOutput.safeParse(status.output);
        return output.success
          ? { id, outcome: output.data.outcome, total_cents: output.data.total_cents }
          : { id, outcome: "errored", error: "completed with an unexpected output" };
      }
      case "errored":
        return { id, outcome: "errored", error: status.error?.message ?? "errored" };
      case "terminated":
        return { id, outcome: "terminated", error: "terminated before it reported" };
      default:
        return { id, outcome: "timed_out", error: `no report within the timeout; status ${status.status}` };
    }
  }
}

function summarize(batchId: string, waited: boolean, children: ChildSummary[]): ParentOutput {
  return {
    batch_id: batchId,
    children,
    waited,
    fulfilled: children.filter((c) => c.outcome === "fulfilled").length,
    failed: children.filter((c) => c.outcome !== "fulfilled" && c.outcome !== "started").length,
    total_cents: children.reduce((sum, c) => sum + (c.outcome === "fulfilled" ? (c.total_cents ?? 0) : 0), 0),
  };
}
