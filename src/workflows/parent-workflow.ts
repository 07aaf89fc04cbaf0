import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import { recordCreated } from "../instances/listing";
import type { ChildSignal } from "./child-signal";
import type { OrderParamsInput } from "./order-schema";
import { ParentParams, type ChildSummary, type ParentOutput, type ParentParamsInput } from "./parent-schema";

export const PARENT_STEPS = {
  validate: "validate batch",
  spawn: "start children",
  continue: "continue with other work",
  waitFor: (index: number) => `wait for child ${index}`,
  collect: "collect unreported children",
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
    prefix = `p${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 40)}`;
  }
  return Array.from({ length: count }, (_, i) => `${prefix}-c${i + 1}`);
}

export class ParentWorkflow extends WorkflowEntrypoint<Env, ParentParamsInput> {
  override async run(event: WorkflowEvent<ParentParamsInput>, step: WorkflowStep): Promise<ParentOutput> {
    const batch = await step.do(PARENT_STEPS.validate, async () => {
      const parsed = ParentParams.safeParse(event.payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new NonRetryableError(
          `invalid params: ${issue?.path.join(".") || "params"}: ${issue?.message ?? "invalid"}`,
        );
      }
      return parsed.data;
    });

    // Creating instances is a side effect, so it lives in a step. createBatch starts
    // up to 100 at once; ids that already exist (a retried step) are skipped by the
    // platform, which is exactly the idempotency we want.
    const ids = await step.do(
      PARENT_STEPS.spawn,
      { retries: { limit: 5, delay: "1 second", backoff: "exponential" }, timeout: "1 minute" },
      async () => {
        const ids = await childIds(event.instanceId, batch.children);
        await this.env.MY_WORKFLOW.createBatch(
          ids.map((id, i) => ({
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
        );
        // Recording ignores ids already recorded, so a retried step records nothing twice.
        await recordCreated(this.env, "my-workflow", ids.map((id) => ({ id, status: "queued" })), "parent");
        return ids;
      },
    );

    // The children run on their own; the parent is not blocked by them.
    await step.do(PARENT_STEPS.continue, async () => ({ started: ids.length }));

    if (!batch.wait_for_children) {
      return summarize(batch.batch_id, false, ids.map((id) => ({ id, outcome: "started" as const })));
    }

    // Fan-in: one wait per child, all in parallel, each on its own event type so an
    // event that is delivered twice resolves nothing new. Events sent before the wait
    // starts are buffered by the platform.
    const timeout = batch.children_timeout_seconds * 1000;
    const signals = await Promise.all(
      ids.map((_, i) =>
        step
          .waitForEvent<ChildSignal>(PARENT_STEPS.waitFor(i + 1), { type: childEventType(i + 1), timeout })
          .then((e) => e.payload as ChildSignal)
          .catch(() => undefined),
      ),
    );

    // A child that never reported may still be running, or may have been terminated:
    // read its status once, in a step, so the answer is stored.
    const missing = ids.filter((_, i) => !signals[i]);
    const late = missing.length
      ? await step.do(PARENT_STEPS.collect, async () => {
          const found: Record<string, string> = {};
          for (const id of missing) {
            const status = await (await this.env.MY_WORKFLOW.get(id)).status().catch(() => undefined);
            found[id] = status?.status ?? "unknown";
          }
          return found;
        })
      : {};

    const children: ChildSummary[] = ids.map((id, i) => {
      const signal = signals[i];
      if (!signal) return { id, outcome: "timed_out", error: `no report; status ${late[id] ?? "unknown"}` };
      if (!signal.ok) return { id, outcome: "errored", error: signal.error };
      return { id, outcome: signal.output.outcome, total_cents: signal.output.total_cents };
    });
    return summarize(batch.batch_id, true, children);
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
