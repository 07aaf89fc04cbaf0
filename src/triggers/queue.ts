import { z } from "zod";
import { createInstance } from "../instances/instances";
import { InstanceError } from "../shared/errors";
import { NewInstanceId } from "../workflows/platform-limits";

/** The queue of orders (wrangler.jsonc `queues`): each message starts one MyWorkflow. */
export const ORDER_QUEUE = "orders";
export const ORDER_WORKFLOW = "my-workflow";

/**
 * An order message: the params of one MyWorkflow instance, and optionally the
 * instance id. `POST /api/queue/orders` always sets the id (and returns it), so the
 * caller can follow the instance; other producers may leave it out.
 */
export const OrderMessage = z.strictObject({
  instance_id: NewInstanceId.optional(),
  params: z.unknown(),
});
export type OrderMessage = z.infer<typeof OrderMessage>;

/**
 * The instance id of a message. Queues deliver at least once: a message can come
 * again after a crash or a failed ack, with the same id and body. Either source of
 * the id is stable across deliveries, so a redelivery meets the existing instance.
 */
export const queueInstanceId = (message: Message<unknown>, body: OrderMessage) =>
  body.instance_id ?? `queue-${message.id}`;

/** The `queue` handler: starts one instance per message, through the instance core. */
export async function onQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue !== ORDER_QUEUE) {
    console.error(`no consumer for queue ${batch.queue}; retrying its messages`);
    batch.retryAll();
    return;
  }
  await Promise.all(batch.messages.map((message) => startOrder(message, env)));
}

async function startOrder(message: Message<unknown>, env: Env): Promise<void> {
  const body = OrderMessage.safeParse(message.body);
  if (!body.success) {
    // No retry can fix a malformed message: drop it, loudly.
    console.error(`queue ${ORDER_QUEUE}: message ${message.id} dropped: ${body.error.issues[0]?.message}`);
    message.ack();
    return;
  }
  const id = queueInstanceId(message, body.data);
  try {
    await createInstance(env, ORDER_WORKFLOW, { instance_id: id, params: body.data.params }, "queue");
    message.ack();
  } catch (error) {
    if (error instanceof InstanceError && error.kind === "conflict") {
      // Most often a redelivery, whose first delivery started the instance: nothing to do.
      // But another producer may have taken the id, and nothing here can tell the two
      // apart (an instance's params cannot be read back), so it is logged either way.
      console.warn(
        `queue ${ORDER_QUEUE}: message ${message.id} acked without starting anything: instance ${id} of ${ORDER_WORKFLOW} already exists (attempt ${message.attempts}); if this is not a redelivery, this message's params were not used`,
      );
      message.ack();
    } else if (error instanceof InstanceError && (error.kind === "invalid_input" || error.kind === "too_large")) {
      console.error(`queue ${ORDER_QUEUE}: message ${message.id} dropped: ${error.message}`);
      message.ack();
    } else {
      // A platform fault: deliver again later (up to max_retries, then dropped or dead-lettered).
      console.error(`queue ${ORDER_QUEUE}: message ${message.id} will be retried`, error);
      message.retry();
    }
  }
}
