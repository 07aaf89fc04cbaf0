import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import {
  APPROVAL_EVENT,
  ApprovalPayload,
  OrderParams,
  type OrderOutput,
  type OrderParamsInput,
} from "./order-schema";
import { notifyParent } from "./child-signal";
import { reportToAgent, splitAgentOrigin, type AgentOrigin, type WorkflowReport } from "./agent-report";

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
  reportToAgent: "report to agent",
} as const;

/**
 * An order: validate, reserve stock, let payment settle, wait for a human when the
 * order is large, then charge and ship. A rejected or expired approval releases the
 * reservation instead.
 *
 * Rules of Workflows this relies on:
 * - `run` may be replayed from the top after a restart or hibernation; completed steps
 *   return their stored result instead of running again. So every side effect sits
 *   inside a `step.do`, and code between steps is deterministic.
 * - A step may run more than once (retries, a crash before its result was stored), so
 *   each side effect is idempotent: ids derive from the instance id, never from
 *   `Math.random()` or `Date.now()` outside a step.
 */
export class MyWorkflow extends WorkflowEntrypoint<Env, OrderParamsInput> {
  override async run(event: WorkflowEvent<OrderParamsInput>, step: WorkflowStep): Promise<OrderOutput> {
    // Invalid input can never succeed on retry: NonRetryableError fails the instance at
    // once. Keep its default name: the runtime recognises it by `name === "NonRetryableError"`.
    // Set when the WorkflowScheduler Agent started this instance: it gets progress reports.
    const { params, origin: agent } = splitAgentOrigin(event.payload);
    const order = await step.do(ORDER_STEPS.validate, async () => {
      const parsed = OrderParams.safeParse(params);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join(".") || "params";
        throw new NonRetryableError(`invalid params: ${field}: ${issue?.message ?? "invalid"}`);
      }
      return parsed.data;
    });

    try {
      const total = order.items.reduce((sum, item) => sum + item.quantity * item.unit_price_cents, 0);

      // Talks to an inventory system in a real app: flaky, so it retries with backoff
      // and is bounded by a timeout. The reservation id derives from the instance id so
      // a retried attempt reserves the same stock rather than reserving twice.
      const reservationId = await step.do(
        ORDER_STEPS.reserve,
        { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" },
        async () => `res-${event.instanceId}`,
      );
      await this.report(step, agent, event.instanceId, "reserved", {
        type: "progress",
        progress: { step: ORDER_STEPS.reserve, percent: 0.25, message: "stock reserved" },
      });

      // A durable timer: the instance hibernates and costs nothing while it sleeps.
      await step.sleep(ORDER_STEPS.settle, order.settlement_seconds * 1000);

      const approval: OrderOutput["approval"] = { required: total > order.approval_threshold_cents };
      if (approval.required) {
        await this.report(step, agent, event.instanceId, "awaiting approval", {
          type: "progress",
          progress: { step: ORDER_STEPS.approval, percent: 0.5, message: "waiting for approval" },
        });
        let decision: ApprovalPayload | undefined;
        try {
          const received = await step.waitForEvent<ApprovalPayload>(ORDER_STEPS.approval, {
            type: APPROVAL_EVENT,
            timeout: order.approval_timeout_seconds * 1000,
          });
          decision = ApprovalPayload.parse(received.payload);
        } catch {
          // waitForEvent throws when the timeout passes: the order expires.
          decision = undefined;
        }
        if (!decision?.approved) {
          await step.do(ORDER_STEPS.release, async () => ({ released: reservationId }));
          const output: OrderOutput = {
            order_id: order.order_id,
            outcome: decision ? "rejected" : "expired",
            total_cents: total,
            reservation_id: reservationId,
            approval: { ...approval, by: decision?.by, note: decision?.note },
          };
          return await this.finish(order, event.instanceId, step, output, agent);
        }
        approval.by = decision.by;
        approval.note = decision.note;
      }

      // The payment provider is called with the instance id as idempotency key, so a
      // retry after a timeout cannot charge twice.
      const paymentId = await step.do(
        ORDER_STEPS.charge,
        { retries: { limit: 5, delay: "5 seconds", backoff: "exponential" }, timeout: "1 minute" },
        async () => `pay-${event.instanceId}`,
      );
      const shipmentId = await step.do(ORDER_STEPS.ship, async () => `shp-${event.instanceId}`);
      await this.report(step, agent, event.instanceId, "shipped", {
        type: "progress",
        progress: { step: ORDER_STEPS.ship, percent: 0.9, message: "shipment created" },
      });

      return await this.finish(order, event.instanceId, step, {
        order_id: order.order_id,
        outcome: "fulfilled",
        total_cents: total,
        reservation_id: reservationId,
        approval,
        payment_id: paymentId,
        shipment_id: shipmentId,
      }, agent);
    } catch (error) {
      // A failing child still tells its parent, then fails as it would have.
      if (order.parent) {
        const message = error instanceof Error ? error.message : String(error);
        await step.do(`${ORDER_STEPS.notifyParent} (failed)`, async () =>
          notifyParent(this.env, order.parent!, event.instanceId, { ok: false, error: message }),
        );
      }
      await this.report(step, agent, event.instanceId, "failed", {
        type: "error",
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  private async finish(
    order: OrderParams,
    instanceId: string,
    step: WorkflowStep,
    output: OrderOutput,
    agent?: AgentOrigin,
  ) {
    if (order.parent) {
      await step.do(ORDER_STEPS.notifyParent, async () =>
        notifyParent(this.env, order.parent!, instanceId, { ok: true, output }),
      );
    }
    await this.report(step, agent, instanceId, "complete", { type: "complete", result: { ...output } });
    return output;
  }

  /** Reports to the Agent that started this instance, if one did. A step, so sent once. */
  private async report(
    step: WorkflowStep,
    agent: AgentOrigin | undefined,
    instanceId: string,
    label: string,
    report: WorkflowReport,
  ) {
    if (!agent) return;
    await step.do(`${ORDER_STEPS.reportToAgent} (${label})`, async () =>
      reportToAgent(this.env, agent, instanceId, report),
    );
  }
}
