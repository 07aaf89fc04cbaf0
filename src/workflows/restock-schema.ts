import { z } from "zod";

/** When and how a restock run was triggered (see `describeTrigger`). */
export const CronFiring = z.strictObject({
  cron: z.string().min(1).max(100),
  /** Milliseconds since the Unix epoch, as `ScheduledController.scheduledTime`. */
  scheduled_time: z.number().int().min(0),
});

/**
 * The params of RestockWorkflow. Every field is optional: a run created by the
 * binding's `schedules` gets no params at all.
 */
export const RestockParams = z
  .strictObject({
    skus: z.array(z.string().min(1).max(64)).min(1).max(100).default(["book-42", "mug-7"]).describe("SKUs to reorder"),
    /** Set by the Cron Trigger handler (src/triggers/scheduled.ts): the firing that started this run. */
    cron_trigger: CronFiring.optional(),
  })
  .prefault({});
export type RestockParamsInput = z.input<typeof RestockParams>;
export type RestockParams = z.output<typeof RestockParams>;

export const RESTOCK_EXAMPLE: RestockParamsInput = { skus: ["book-42"] };

export interface RestockTrigger {
  /** `schedules` on the workflow binding, the Worker's Cron Trigger, or a direct create. */
  source: "workflow schedule" | "cron trigger" | "direct";
  cron?: string;
  /** ISO 8601. */
  scheduled_time?: string;
}

export interface RestockOutput {
  trigger: RestockTrigger;
  skus: string[];
  purchase_order_id: string;
}
