/**
 * Reading what the platform recorded for an instance, as test/faults/order-faults.test.ts
 * does: its event history, and how many attempts a step made.
 */

/** Every event the platform recorded for an instance, in order (the subscription ends at the terminal event). */
export async function history(binding: Workflow, id: string): Promise<WorkflowInstanceEvent[]> {
  const instance = await binding.get(id);
  using subscription = await instance.subscribe();
  const events: WorkflowInstanceEvent[] = [];
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) events.push(next.value);
  return events;
}

/** Event step names carry the occurrence: "charge payment-1". */
export const stepOf = (stepName: string) => stepName.replace(/-\d+$/, "");

/** How many attempts of the step named `stepName` the platform started. */
export const attemptsOf = (events: WorkflowInstanceEvent[], stepName: string) =>
  events.filter((e) => e.type === "attempt_started" && stepOf(e.stepName) === stepName).length;
