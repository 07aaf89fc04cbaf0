import { z } from "zod";
import { ORDER_EXAMPLE, OrderItem } from "./order-schema";

export const ParentParams = z.strictObject({
  // Child order ids are `<batch_id>-<n>` (n <= 50) and must fit MyWorkflow's 64-character order_id.
  batch_id: z.string().min(1).max(61).describe("Your reference for this batch of orders"),
  customer_email: z.email(),
  /** How many child orders to fan out. */
  children: z.number().int().min(1).max(50).default(3),
  items: z.array(OrderItem).min(1).max(100).default(ORDER_EXAMPLE.items),
  /**
   * Fan-in: when true the parent waits for every child to report, then returns an
   * aggregate. When false it only starts them and moves on (fire and forget).
   */
  wait_for_children: z.boolean().default(true),
  children_timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(600),
  /** Passed to each child: orders above it wait for approval. */
  approval_threshold_cents: z.number().int().min(0).default(50_000),
});
export type ParentParamsInput = z.input<typeof ParentParams>;
export type ParentParams = z.output<typeof ParentParams>;

export const PARENT_EXAMPLE: ParentParamsInput = {
  batch_id: "batch-7",
  customer_email: "grace@example.com",
  children: 3,
};

export interface ChildSummary {
  id: string;
  outcome: "started" | "fulfilled" | "rejected" | "expired" | "errored" | "terminated" | "timed_out";
  total_cents?: number;
  error?: string;
}
export interface ParentOutput {
  batch_id: string;
  children: ChildSummary[];
  waited: boolean;
  fulfilled: number;
  failed: number;
  total_cents: number;
}
