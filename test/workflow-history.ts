import type { WorkflowIntrospector } from "cloudflare:test";
import { startedIds, startedParams } from "./fuzz/started";

/**
 * Reading what the platform recorded for an instance: its event history, and how many
 * attempts a step made.
 */

/** Every event the platform recorded for an instance, in order (the subscription ends at the terminal event). */
export async function history(binding: Workflow, id: string): Promise<WorkflowInstanceEvent[]> {
  const instance = await binding.get(id);
  using subscription = await instance.subscribe();
  const events: WorkflowInstanceEvent[] = [];
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) events.push(next.value);
  return events;
}

/**
 * The first event the platform records for an instance that satisfies `match`, waiting for
 * it if need be; throws if the instance ends without one.
 */
export async function eventMatching(
  binding: Workflow,
  id: string,
  match: (event: WorkflowInstanceEvent) => boolean,
): Promise<WorkflowInstanceEvent> {
  const instance = await binding.get(id);
  using subscription = await instance.subscribe();
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) {
    if (match(next.value)) return next.value;
  }
  throw new Error(`instance ${id} ended without the event awaited`);
}

/** Event step names carry the occurrence: "charge payment-1". */
export const stepOf = (stepName: string) => stepName.replace(/-\d+$/, "");

/** The steps started, by name, in the order they started (a retried step counts once). */
export const stepsStarted = (events: WorkflowInstanceEvent[]) =>
  events.flatMap((e) => (e.type === "step_started" ? [stepOf(e.stepName)] : []));

/** How many attempts of the step named `stepName` the platform started. */
export const attemptsOf = (events: WorkflowInstanceEvent[], stepName: string) =>
  events.filter((e) => e.type === "attempt_started" && stepOf(e.stepName) === stepName).length;

/** The steps whose rollback handler completed, in the order they ran. */
export const rolledBack = (events: WorkflowInstanceEvent[]) =>
  events.flatMap((e) => (e.type === "rollback_step_completed" ? [stepOf(e.stepName)] : []));

/**
 * The ids of the instances an introspector saw start whose params satisfy `match`.
 * Instances of other tests can start meanwhile, so a test counts its own starts by their
 * params (an order_id, a firing time), which also catches a second start under another id.
 */
export async function startedMatching(
  introspector: WorkflowIntrospector,
  binding: Workflow,
  match: (params: unknown) => boolean,
): Promise<string[]> {
  const ids = await startedIds(introspector);
  const params = await Promise.all(ids.map((id) => startedParams(binding, id)));
  return ids.filter((_, i) => match(params[i]));
}

/** Matches the params of an order (MyWorkflow) with this order_id. */
export const isOrder = (orderId: string) => (params: unknown) =>
  (params as { order_id?: unknown } | undefined)?.order_id === orderId;
