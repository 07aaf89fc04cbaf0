import { NonRetryableError } from "cloudflare:workflows";
import { InstanceError } from "../shared/errors";
import { bindingOf, findWorkflow } from "./declaration";
import type { OrderOutput, ParentRef } from "./order-schema";
import { mapPlatformError } from "./platform-errors";

/**
 * What a child (MyWorkflow with a `parent`) tells its parent when it finishes: one event per
 * child, on the event type the parent chose. Any workflow can be a parent: ParentWorkflow is one.
 */
export type ChildResult = { ok: true; output: OrderOutput } | { ok: false; error: string };
export type ChildReport = ChildResult & { child_id: string };

/**
 * Sends the child's result to its parent instance. Call it inside a `step.do`: a retry may
 * send twice, and the parent waits for each child's event type once, ignoring repeats. A
 * parent that does not exist throws a NonRetryableError (asking again will not make it
 * exist); any other failure is thrown as it is, for the step to retry.
 */
export async function notifyParent({
  env,
  parent,
  childId,
  result,
}: {
  env: Env;
  parent: ParentRef;
  childId: string;
  result: ChildResult;
}): Promise<{ notified: string }> {
  const workflow = findWorkflow(parent.workflow);
  if (!workflow) throw new NonRetryableError(`workflow ${parent.workflow} is not defined by this Worker`);
  let instance: WorkflowInstance;
  try {
    instance = await bindingOf(env, workflow).get(parent.instance_id);
  } catch (error) {
    const mapped = mapPlatformError(error, parent.workflow, parent.instance_id);
    if (mapped instanceof InstanceError && mapped.kind === "not_found") throw new NonRetryableError(mapped.message);
    throw error;
  }
  const payload: ChildReport = { ...result, child_id: childId };
  await instance.sendEvent({ type: parent.event_type, payload });
  return { notified: parent.instance_id };
}
