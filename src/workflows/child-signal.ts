import { bindingFor } from "./registry";
import type { OrderOutput, ParentRef } from "./order-schema";

/** What a child tells its parent when it finishes, one event per child. */
export type ChildResult = { ok: true; output: OrderOutput } | { ok: false; error: string };
export type ChildSignal = ChildResult & { child_id: string };

/**
 * Sends the child's result to the parent instance. Called inside a `step.do`, so a
 * retry may send twice: the parent waits for each child's event type once and
 * ignores repeats.
 */
export async function notifyParent(env: Env, parent: ParentRef, childId: string, result: ChildResult) {
  const instance = await bindingFor(env, parent.workflow).get(parent.instance_id);
  const payload: ChildSignal = { ...result, child_id: childId };
  await instance.sendEvent({ type: parent.event_type, payload });
  return { notified: parent.instance_id };
}
