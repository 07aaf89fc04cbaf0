import { NonRetryableError } from "cloudflare:workflows";
import { z } from "zod";
import { InstanceError } from "../shared/errors";
import type { OrderOutput, ParentRef } from "./order-schema";
import { mapPlatformError } from "./platform-errors";
import { bindingFor } from "./registry";

/** What a child tells its parent when it finishes, one event per child. */
export type ChildResult = { ok: true; output: OrderOutput } | { ok: false; error: string };
export type ChildSignal = ChildResult & { child_id: string };

/** The part of a child's output the parent aggregates. */
export const ChildOutput = z.looseObject({
  outcome: z.enum(["fulfilled", "rejected", "expired"]),
  total_cents: z.number().int().min(0),
});

/**
 * Anyone holding the API token can send an event to a parent, so the parent checks
 * a report before it trusts it.
 */
export const ChildSignalSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), child_id: z.string(), output: ChildOutput }),
  z.object({ ok: z.literal(false), child_id: z.string(), error: z.string().max(10_000) }),
]);

/**
 * Sends the child's result to the parent instance. Called inside a `step.do`, so a
 * retry may send twice: the parent waits for each child's event type once and
 * ignores repeats. A parent that does not exist throws a NonRetryableError (asking
 * again will not make it exist); any other failure is thrown as it is, for the step to
 * retry.
 */
export async function notifyParent(env: Env, parent: ParentRef, childId: string, result: ChildResult) {
  let instance: WorkflowInstance;
  try {
    instance = await bindingFor(env, parent.workflow).get(parent.instance_id);
  } catch (error) {
    const mapped = mapPlatformError(error, parent.workflow, parent.instance_id);
    if (mapped instanceof InstanceError && mapped.kind === "not_found") throw new NonRetryableError(mapped.message);
    throw error;
  }
  const payload: ChildSignal = { ...result, child_id: childId };
  await instance.sendEvent({ type: parent.event_type, payload });
  return { notified: parent.instance_id };
}
