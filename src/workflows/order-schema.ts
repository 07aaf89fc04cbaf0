import { z } from "zod";
import { declaredWorkflows, findWorkflow } from "./declaration";
import { EventType, InstanceId } from "./platform-limits";

/**
 * Where a child reports when it finishes (ParentWorkflow's fan-in). Checked when the
 * order is created: the workflow must be one this Worker defines, the id and event type
 * must be ones the platform accepts. Whether the parent instance exists is not: a parent
 * may well be created after its children, and existing at creation would prove nothing
 * about the moment the child reports (see MyWorkflow's notification).
 */
export const ParentRef = z.strictObject({
  // Checked against the workflows declared when the params are parsed.
  workflow: z
    .string()
    .refine((name) => findWorkflow(name) !== undefined, {
      error: () =>
        `must name a workflow this Worker defines: ${declaredWorkflows()
          .map((w) => w.name)
          .join(", ")}`,
    })
    .describe("The name of a workflow this Worker defines"),
  instance_id: InstanceId,
  event_type: EventType,
});
export type ParentRef = z.infer<typeof ParentRef>;

/**
 * The params and events of MyWorkflow. The workflow validates its own input with
 * these schemas, and `GET /api/workflows` publishes them as JSON Schema, so the
 * contract a client sees is the one the code enforces.
 */
export const OrderItem = z.strictObject({
  sku: z.string().min(1).max(64).describe("Stock keeping unit"),
  quantity: z.number().int().min(1).max(1000),
  unit_price_cents: z.number().int().min(0).max(10_000_000),
});

/** Steps of MyWorkflow a demo can make fail for good (see `simulate`). */
export const FAILABLE_STEPS = ["charge payment", "create shipment"] as const;

export const OrderParams = z.strictObject({
  order_id: z.string().min(1).max(64).describe("Your order reference"),
  customer_email: z.email(),
  items: z.array(OrderItem).min(1).max(100),
  /** Orders whose total is above this many cents wait for a human approval. */
  approval_threshold_cents: z.number().int().min(0).default(50_000),
  /** How long to wait for the approval event before the order expires. */
  approval_timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  /** How long the payment settlement window lasts (a `step.sleep`). */
  settlement_seconds: z.number().int().min(0).max(3600).default(1),
  /**
   * When set, the instance signals this parent when it finishes (used by
   * ParentWorkflow's fan-in pattern).
   */
  parent: ParentRef.optional(),
  /**
   * Demo only: the named step throws a NonRetryableError, so you can watch the
   * completed steps being rolled back. Drop it from a real app's schema.
   */
  simulate: z.strictObject({ fail_step: z.enum(FAILABLE_STEPS) }).optional(),
});
export type OrderParamsInput = z.input<typeof OrderParams>;
export type OrderParams = z.output<typeof OrderParams>;

export const APPROVAL_EVENT = "approval";
export const ApprovalPayload = z.strictObject({
  approved: z.boolean(),
  by: z.string().min(1).max(100),
  note: z.string().max(500).optional(),
});
export type ApprovalPayload = z.infer<typeof ApprovalPayload>;

export const ORDER_EXAMPLE: OrderParamsInput = {
  order_id: "ord-1001",
  customer_email: "ada@example.com",
  items: [
    { sku: "book-42", quantity: 2, unit_price_cents: 1999 },
    { sku: "mug-7", quantity: 1, unit_price_cents: 1250 },
  ],
};

export type OrderOutcome = "fulfilled" | "rejected" | "expired";
/** Whether the parent heard of the order's outcome; `error` says why not. */
export type ParentNotice = ParentRef & ({ notified: true } | { notified: false; error: string });
export interface OrderOutput {
  order_id: string;
  outcome: OrderOutcome;
  total_cents: number;
  reservation_id: string;
  approval: { required: boolean; by?: string; note?: string };
  payment_id?: string;
  shipment_id?: string;
  /** Only for an order with a `parent`. */
  parent?: ParentNotice;
}
