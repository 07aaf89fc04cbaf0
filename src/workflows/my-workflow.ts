import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import { declareWorkflow } from "./declaration";
import { type ChildResult, notifyParent } from "./notify-parent";
import {
  APPROVAL_EVENT,
  ApprovalPayload,
  type FAILABLE_STEPS,
  ORDER_EXAMPLE,
  type OrderOutput,
  OrderParams,
  type OrderParamsInput,
  type ParentNotice,
} from "./order-schema";
import { parseParams } from "./params";
import { type ProgressReporter, progressReporter, REPORT_STEP } from "./progress-report";
import { isEngineAbort, isWaitTimeout, messageOf } from "./step-errors";

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

/** What the rollbacks record in the instance index, as milestones of type `rollback`. */
export const ORDER_COMPENSATIONS = {
  /** Compensates `charge payment`. */
  refund: "refund payment",
  /** Compensates `reserve inventory`. */
  release: "release reservation",
} as const;

export const myWorkflow = declareWorkflow({
  name: "my-workflow",
  binding: "MY_WORKFLOW",
  description:
    "An order: validate, reserve stock, let payment settle, wait for approval when the total is above the threshold, then charge and ship.",
  params: OrderParams,
  example: ORDER_EXAMPLE,
  events: { [APPROVAL_EVENT]: ApprovalPayload },
});

/**
 * An order: reserve stock, let payment settle, wait for a human when the order is large, then
 * charge and ship. A step that fails for good rolls back what was done, newest first. The rules
 * of Workflows this relies on (replays, idempotent steps, rollbacks): docs/workflows.md.
 */
export class MyWorkflow extends WorkflowEntrypoint<Env, OrderParamsInput> {
  /** What the API, RPC and the dashboard know of it (src/workflows/registry.ts). */
  static readonly declaration = myWorkflow;

  override async run(event: WorkflowEvent<OrderParamsInput>, step: WorkflowStep): Promise<OrderOutput> {
    const order = await step.do(ORDER_STEPS.validate, async () => parseParams(OrderParams, event.payload));
    const report = progressReporter({ env: this.env, step, workflow: myWorkflow.name, event });
    const id = event.instanceId;
    const total = order.items.reduce((sum, item) => sum + item.quantity * item.unit_price_cents, 0);

    let outcome: OrderOutput;
    try {
      // Ids derive from the instance id: a retried attempt reserves the same stock, never twice.
      const released = `released reservation res-${id}`;
      const reservationId = await step.do(
        ORDER_STEPS.reserve,
        { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" },
        async () => `res-${id}`,
        // A failed step is rolled back too (a timed-out call may have gone through).
        { rollback: () => report.compensated({ compensation: ORDER_COMPENSATIONS.release, message: released }) },
      );
      await report.progress({ label: "reserved", step: ORDER_STEPS.reserve, percent: 0.25, message: "stock reserved" });

      // A durable timer: the instance hibernates, at no cost, until it ends.
      await step.sleep(ORDER_STEPS.settle, order.settlement_seconds * 1000);

      const approval: OrderOutput["approval"] = { required: total > order.approval_threshold_cents };
      const decision = approval.required
        ? await waitForApproval({ step, report, timeoutSeconds: order.approval_timeout_seconds })
        : undefined;
      if (approval.required && !decision?.approved) {
        await step.do(ORDER_STEPS.release, async () => ({ released: reservationId }));
        outcome = {
          order_id: order.order_id,
          outcome: decision ? "rejected" : "expired",
          total_cents: total,
          reservation_id: reservationId,
          approval: { ...approval, by: decision?.by, note: decision?.note },
        };
      } else {
        if (decision) Object.assign(approval, { by: decision.by, note: decision.note });
        // The provider gets the instance id as idempotency key: a retry after a timeout cannot charge twice.
        const refunded = `refunded payment pay-${id}`;
        const paymentId = await step.do(
          ORDER_STEPS.charge,
          { retries: { limit: 5, delay: "5 seconds", backoff: "exponential" }, timeout: "1 minute" },
          async () => {
            failIfSimulated(order, ORDER_STEPS.charge);
            return `pay-${id}`;
          },
          { rollback: () => report.compensated({ compensation: ORDER_COMPENSATIONS.refund, message: refunded }) },
        );
        const shipmentId = await step.do(ORDER_STEPS.ship, async () => {
          failIfSimulated(order, ORDER_STEPS.ship);
          return `shp-${id}`;
        });
        outcome = {
          order_id: order.order_id,
          outcome: "fulfilled",
          total_cents: total,
          reservation_id: reservationId,
          approval,
          payment_id: paymentId,
          shipment_id: shipmentId,
        };
      }
    } catch (error) {
      // Pause, terminate and restart reach `run` as errors: the engine must see its own abort.
      if (isEngineAbort(error)) throw error;
      // A failing child still tells its parent, then fails with its own error; the platform then
      // runs the rollbacks, and its history says which ran (`rollback` and `steps` of the instance).
      const parent = await this.tellParent({
        order,
        id,
        step,
        stepName: `${ORDER_STEPS.notifyParent} (failed)`,
        result: { ok: false, error: messageOf(error) },
      });
      appendNote(error, parentNote(parent));
      await report.failed({ error: messageOf(error) });
      throw error;
    }

    // The order's fate is sealed (shipped, or its stock released). Nothing below may throw: a
    // failure would make the platform roll back a shipped order.
    if (outcome.outcome === "fulfilled") {
      await report.progress({ label: "shipped", step: ORDER_STEPS.ship, percent: 0.9, message: "shipment created" });
    }
    const parent = await this.tellParent({
      order,
      id,
      step,
      stepName: ORDER_STEPS.notifyParent,
      result: { ok: true, output: outcome },
    });
    const output: OrderOutput = parent ? { ...outcome, parent } : outcome;
    const note = parentNote(parent);
    await report.complete({
      message: `${OUTCOME_MESSAGES[output.outcome]}${note ? `; ${note}` : ""}`,
      result: { ...output },
    });
    return output;
  }

  /**
   * Tells the parent, if the order has one, how it ended, and says whether that worked. It
   * never fails the order: after a few tries it gives up, and the caller notes it. Catching a
   * step's final failure is how a workflow carries on past it.
   */
  private async tellParent({
    order,
    id,
    step,
    stepName,
    result,
  }: {
    order: OrderParams;
    id: string;
    step: WorkflowStep;
    stepName: string;
    result: ChildResult;
  }): Promise<ParentNotice | undefined> {
    const parent = order.parent;
    if (!parent) return undefined;
    try {
      await step.do(
        stepName,
        // Four tries over about 15 seconds.
        { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" },
        async () => notifyParent({ env: this.env, parent, childId: id, result }),
      );
      return { ...parent, notified: true };
    } catch (error) {
      if (isEngineAbort(error)) throw error;
      return { ...parent, notified: false, error: messageOf(error) };
    }
  }
}

/**
 * Waits for the approval event. A timeout means the order expired (undefined); a payload of the
 * wrong shape fails the order rather than counting as a rejection nobody made.
 */
async function waitForApproval({
  step,
  report,
  timeoutSeconds,
}: {
  step: WorkflowStep;
  report: ProgressReporter;
  timeoutSeconds: number;
}): Promise<ApprovalPayload | undefined> {
  await report.progress({
    label: "awaiting approval",
    step: ORDER_STEPS.approval,
    percent: 0.5,
    message: "waiting for approval",
  });
  try {
    const event = await step.waitForEvent(ORDER_STEPS.approval, {
      type: APPROVAL_EVENT,
      timeout: timeoutSeconds * 1000,
    });
    return approvalOf(event.payload);
  } catch (error) {
    if (isWaitTimeout(error)) return undefined;
    throw error;
  }
}

const OUTCOME_MESSAGES: Record<OrderOutput["outcome"], string> = {
  fulfilled: "order fulfilled",
  rejected: "approval rejected; stock released",
  expired: "no approval in time; stock released",
};

/**
 * The decision an approval event carries. The API checks payloads before sending them, but a
 * caller holding the binding can send anything; retrying cannot fix a payload, so it fails
 * the order with a NonRetryableError naming the field.
 */
function approvalOf(payload: unknown): ApprovalPayload {
  const parsed = ApprovalPayload.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NonRetryableError(
    `invalid ${APPROVAL_EVENT} event payload: ${issue?.path.join(".") || "payload"}: ${issue?.message ?? "invalid"}`,
  );
}

/** Throws inside the step named in `simulate.fail_step`: a permanent failure, not retried. */
function failIfSimulated(order: OrderParams, stepName: (typeof FAILABLE_STEPS)[number]): void {
  if (order.simulate?.fail_step === stepName) {
    throw new NonRetryableError(`${stepName} failed permanently (simulated)`);
  }
}

/** Why the parent did not hear of the order, or undefined. */
const parentNote = (parent: ParentNotice | undefined) =>
  parent && !parent.notified ? `parent ${parent.instance_id} not notified: ${parent.error}` : undefined;

/** Appends `note` to the error's message; the error keeps its name (a NonRetryableError stays one). */
function appendNote(error: unknown, note: string | undefined): void {
  if (note !== undefined && error instanceof Error) error.message = `${error.message}; ${note}`;
}
