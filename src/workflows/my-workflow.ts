import type { WorkflowStep, WorkflowStepConfig } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import type { JsonValue } from "../shared/rpc-result";
import { type ChildResult, notifyParent } from "./child-signal";
import { defineWorkflow, type RunOf, WorkflowOf } from "./define";
import {
  APPROVAL_EVENT,
  ApprovalPayload,
  type FAILABLE_STEPS,
  ORDER_EXAMPLE,
  type OrderOutput,
  OrderParams,
  type ParentNotice,
} from "./order-schema";
import { type ProgressReporter, REPORT_STEP } from "./progress-report";

/** Step names are part of the contract: tests mock them and the dashboard shows them. */
export const ORDER_STEPS = {
  validate: "validate order",
  reserve: "reserve inventory",
  settle: "wait for payment settlement",
  approval: "wait for approval",
  release: "release inventory",
  charge: "charge payment",
  ship: "create shipment",
  notifyParent: "notify parent",
  /** `report progress (reserved)`, `(awaiting approval)`, `(shipped)`, `(complete)`, `(failed)`. */
  report: REPORT_STEP,
} as const;

/**
 * What the rollbacks record in the instance index, as milestones of type `rollback` after
 * the run's `failed` one (or after its last, on a terminate with rollback), newest first.
 */
export const ORDER_COMPENSATIONS = {
  /** Compensates `charge payment`. */
  refund: "refund payment",
  /** Compensates `reserve inventory`. */
  release: "release reservation",
} as const;

export const myWorkflow = defineWorkflow({
  name: "my-workflow",
  binding: "MY_WORKFLOW",
  description:
    "An order: validate, reserve stock, let payment settle, wait for approval when the total is above the threshold, then charge and ship.",
  params: OrderParams,
  example: ORDER_EXAMPLE,
  events: { [APPROVAL_EVENT]: ApprovalPayload },
  validateStep: ORDER_STEPS.validate,
});

/**
 * An order: validate, reserve stock, let payment settle, wait for a human when the
 * order is large, then charge and ship. A rejected or expired approval releases the
 * reservation instead; an approval event of the wrong shape fails the order (see
 * `approvalOf`). Every instance reports its milestones (stock reserved 25%, waiting for
 * approval 50%, shipped 90%, complete or failed) to the instance index, and to whoever
 * started it if they asked (see hooks.ts). When a step fails for good
 * before the shipment (retries exhausted, a timeout, or a NonRetryableError), the
 * completed steps are compensated: the payment is refunded and the reservation
 * released, newest first, each recorded in the instance index as it is done
 * (ORDER_COMPENSATIONS). A terminate with rollback compensates the same way.
 *
 * Once the shipment is created, nothing is compensated: the goods are on their way, and
 * refunding them because a later step failed would give them away. The platform runs
 * the rollbacks when `run` throws, so nothing after the shipment may throw: the progress
 * reports are best effort, and telling the parent is tried a few times, then noted in
 * the output (`parent.notified: false` and why) and the final milestone while the order
 * completes as fulfilled. A notification is not worth undoing a shipment. Likewise a
 * rejected or expired order, its stock released, is not turned into a failure by a
 * parent that cannot be told.
 *
 * Rules of Workflows this relies on:
 * - `run` may be replayed from the top after a restart or hibernation; completed steps
 *   return their stored result instead of running again. So every side effect sits
 *   inside a `step.do`, and code between steps is deterministic.
 * - A step may run more than once (retries, a crash before its result was stored), so
 *   each side effect is idempotent: ids derive from the instance id, never from
 *   `Math.random()` or `Date.now()` outside a step.
 */
export class MyWorkflow extends WorkflowOf(myWorkflow) {
  // The params are valid here: the base class validated them in the first step (define.ts).
  protected override async execute({
    params: order,
    event,
    step,
    report,
  }: RunOf<typeof myWorkflow>): Promise<OrderOutput> {
    // What the platform rolls back, newest first, if a step fails for good. Deterministic,
    // so a replay rebuilds the same list.
    const rollbacks: string[] = [];
    let outcome: OrderOutput;
    try {
      outcome = await this.decide(order, event.instanceId, step, report, rollbacks);
    } catch (thrown) {
      // Pause, terminate and restart reach a running `run` as a thrown "Aborting engine"
      // error. Rethrow it untouched and run no step: the engine must see its own abort,
      // or it would record a failure (and roll back) instead of pausing.
      if (isEngineAbort(thrown)) throw thrown;
      // The instance's error says what failed and what was rolled back.
      const error = withNote(thrown, rollbacks.length ? `rolled back: ${rollbacks.join(", ")}` : undefined);
      // A failing child still tells its parent, then fails with its own error.
      const parent = await this.tellParent(order, event.instanceId, step, `${ORDER_STEPS.notifyParent} (failed)`, {
        ok: false,
        error: messageOf(error),
      });
      withNote(
        error,
        parent && !parent.notified ? `parent ${parent.instance_id} not notified: ${parent.error}` : undefined,
      );
      await report.failed(messageOf(error));
      throw error;
    }
    // The order's fate is sealed (shipped, or its stock released): nothing below fails the
    // instance, so the platform never rolls a shipped order back.
    return await this.finish(order, event.instanceId, step, outcome, report);
  }

  /**
   * Runs the order up to its outcome: shipped, or its stock released after a rejected or
   * expired approval. Any failure in here fails the order and is compensated.
   */
  private async decide(
    order: OrderParams,
    instanceId: string,
    step: WorkflowStep,
    report: ProgressReporter,
    rollbacks: string[],
  ): Promise<OrderOutput> {
    const total = order.items.reduce((sum, item) => sum + item.quantity * item.unit_price_cents, 0);

    // Talks to an inventory system in a real app: flaky, so it retries with backoff
    // and is bounded by a timeout. The reservation id derives from the instance id so
    // a retried attempt reserves the same stock rather than reserving twice.
    //
    // Compensation uses the platform's step rollback (the local runtime runs it too):
    // when `run` throws, the rollback of every step that registered one runs, newest
    // first, each as a durable, retried step, before the instance is marked errored.
    // A step that failed is rolled back too (a timed-out call may still have gone
    // through), so a rollback works from the idempotency key, not the step's output,
    // and must itself be idempotent (a handler that fails is retried, and may have
    // done its work before failing): the release is keyed by the reservation id, and
    // recording the compensation again replaces the earlier record.
    const released = `released reservation res-${instanceId}`;
    rollbacks.unshift(released);
    const reservationId = await step.do(
      ORDER_STEPS.reserve,
      { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" },
      async () => `res-${instanceId}`,
      // The inventory system's "release res-<instance id>" call goes first; if it throws,
      // the engine retries the handler, and nothing is recorded until it succeeds.
      { rollback: () => report.compensated(ORDER_COMPENSATIONS.release, released) },
    );
    await report.progress("reserved", ORDER_STEPS.reserve, 0.25, "stock reserved");

    // A durable timer: the instance hibernates and costs nothing while it sleeps.
    await step.sleep(ORDER_STEPS.settle, order.settlement_seconds * 1000);

    const approval: OrderOutput["approval"] = { required: total > order.approval_threshold_cents };
    if (approval.required) {
      await report.progress("awaiting approval", ORDER_STEPS.approval, 0.5, "waiting for approval");
      // Any JSON: the binding does not check an event's payload against a schema.
      let received: { payload: JsonValue } | undefined;
      try {
        received = await step.waitForEvent<JsonValue>(ORDER_STEPS.approval, {
          type: APPROVAL_EVENT,
          timeout: order.approval_timeout_seconds * 1000,
        });
      } catch (error) {
        // Only the wait's own timeout means the order expired. Anything else (the
        // engine pausing or terminating the run) goes on up untouched.
        if (!isWaitTimeout(error)) throw error;
      }
      const decision = received && approvalOf(received.payload);
      if (!decision?.approved) {
        await step.do(ORDER_STEPS.release, async () => ({ released: reservationId }));
        return {
          order_id: order.order_id,
          outcome: decision ? "rejected" : "expired",
          total_cents: total,
          reservation_id: reservationId,
          approval: { ...approval, by: decision?.by, note: decision?.note },
        };
      }
      approval.by = decision.by;
      approval.note = decision.note;
    }

    // The payment provider is called with the instance id as idempotency key, so a
    // retry after a timeout cannot charge twice.
    const refunded = `refunded payment pay-${instanceId}`;
    rollbacks.unshift(refunded);
    const paymentId = await step.do(
      ORDER_STEPS.charge,
      { retries: { limit: 5, delay: "5 seconds", backoff: "exponential" }, timeout: "1 minute" },
      async () => {
        failIfSimulated(order, ORDER_STEPS.charge);
        return `pay-${instanceId}`;
      },
      // The payment provider's "refund pay-<instance id>" call goes first, as above.
      { rollback: () => report.compensated(ORDER_COMPENSATIONS.refund, refunded) },
    );
    const shipmentId = await step.do(ORDER_STEPS.ship, async () => {
      failIfSimulated(order, ORDER_STEPS.ship);
      return `shp-${instanceId}`;
    });
    return {
      order_id: order.order_id,
      outcome: "fulfilled",
      total_cents: total,
      reservation_id: reservationId,
      approval,
      payment_id: paymentId,
      shipment_id: shipmentId,
    };
  }

  /** Reports the outcome and tells the parent. Never throws, but for the engine's own aborts. */
  private async finish(
    order: OrderParams,
    instanceId: string,
    step: WorkflowStep,
    outcome: OrderOutput,
    report: ProgressReporter,
  ): Promise<OrderOutput> {
    if (outcome.outcome === "fulfilled") await report.progress("shipped", ORDER_STEPS.ship, 0.9, "shipment created");
    const parent = await this.tellParent(order, instanceId, step, ORDER_STEPS.notifyParent, {
      ok: true,
      output: outcome,
    });
    const output: OrderOutput = parent ? { ...outcome, parent } : outcome;
    const note = parent && !parent.notified ? `; parent ${parent.instance_id} not notified: ${parent.error}` : "";
    await report.complete(`${OUTCOME_MESSAGES[output.outcome]}${note}`, { ...output });
    return output;
  }

  /**
   * Tells the parent, if the order has one, how it ended, and says whether that worked.
   * It never fails the order: a failed attempt is retried a few times (a parent that does
   * not exist is not asked again, see notifyParent), then given up on, and the caller
   * notes it. Catching a step's final failure is how a workflow carries on past it.
   */
  private async tellParent(
    order: OrderParams,
    instanceId: string,
    step: WorkflowStep,
    stepName: string,
    result: ChildResult,
  ): Promise<ParentNotice | undefined> {
    const parent = order.parent;
    if (!parent) return undefined;
    try {
      await step.do(stepName, NOTIFY_CONFIG, async () => notifyParent(this.env, parent, instanceId, result));
      return { ...parent, notified: true };
    } catch (error) {
      // Pause or terminate during the step: the engine must see its own abort.
      if (isEngineAbort(error)) throw error;
      return { ...parent, notified: false, error: messageOf(error) };
    }
  }
}

/** Four tries over about 15 seconds, then the order goes on without its parent hearing of it. */
const NOTIFY_CONFIG: WorkflowStepConfig = {
  retries: { limit: 3, delay: "2 seconds", backoff: "exponential" },
  timeout: "30 seconds",
};

const OUTCOME_MESSAGES: Record<OrderOutput["outcome"], string> = {
  fulfilled: "order fulfilled",
  rejected: "approval rejected; stock released",
  expired: "no approval in time; stock released",
};

/**
 * The decision an approval event carries. The API validates event payloads before
 * sending them, but a caller holding the binding (another Worker's script, a test)
 * can send anything. A payload of the wrong shape fails the instance with a
 * NonRetryableError naming the field, rather than counting as a rejection: nobody
 * decided to reject (`{ "approved": "yes" }` may well have meant yes), so recording a
 * rejection would put a decision on record that no one made, and retrying cannot fix
 * the payload. The failure is visible in the instance's error, and the rollbacks
 * release the reserved stock as for any other failure.
 */
function approvalOf(payload: unknown): ApprovalPayload {
  const parsed = ApprovalPayload.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NonRetryableError(
    `invalid ${APPROVAL_EVENT} event payload: ${issue?.path.join(".") || "payload"}: ${issue?.message ?? "invalid"}`,
  );
}

/**
 * Whether `error` is what step.waitForEvent throws when its timeout passes. The local
 * engine (miniflare's node_modules/miniflare/dist/src/workers/workflows/binding.worker.js,
 * `waitForEvent`) throws a WorkflowTimeoutError "Execution timed out after <ms>ms". It
 * reaches `run` over RPC as a plain Error: on the wait itself with the message
 * "WorkflowTimeoutError: Execution timed out after 1000ms"; when a later replay (a
 * restart from a later step) rethrows the error the engine stored, with name "Error" and
 * the message "Execution timed out after 1000ms". Both are matched, and the name, in
 * case a runtime keeps it.
 */
function isWaitTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "WorkflowTimeoutError" ||
      /^(?:WorkflowTimeoutError: )?Execution timed out after \d+ ?ms\b/.test(error.message))
  );
}

/** Throws inside the step named in `simulate.fail_step`: a permanent failure, not retried. */
function failIfSimulated(order: OrderParams, stepName: (typeof FAILABLE_STEPS)[number]): void {
  if (order.simulate?.fail_step === stepName) {
    throw new NonRetryableError(`${stepName} failed permanently (simulated)`);
  }
}

/** Appends `note` to the error's message; the error keeps its name (NonRetryableError stays one). */
function withNote(error: unknown, note: string | undefined): unknown {
  if (note === undefined || !(error instanceof Error)) return error;
  error.message = `${error.message}; ${note}`;
  return error;
}

/** An error's message, without the class name a NonRetryableError gains on its way over RPC. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^NonRetryableError: /, "") : String(error);
}

/** The runtime interrupts `run` for pause, terminate, restart and delete with these. */
function isEngineAbort(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("Aborting engine:");
}
