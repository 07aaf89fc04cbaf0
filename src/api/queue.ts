import { Hono } from "hono";
import { z } from "zod";
import { requireWorkflow } from "../instances/instances";
import { assertIdsFree } from "../instances/taken-ids";
import { assertPayloadSize, parse } from "../instances/validation";
import { ok } from "../shared/envelope";
import { InstanceError, invalid } from "../shared/errors";
import { ORDER_QUEUE, ORDER_WORKFLOW, OrderMessage } from "../triggers/queue";
import { jsonBody, methodNotAllowed } from "./middleware";
import { limitCreates } from "./rate-limit";
import type { AppEnv, RouteGroup } from "./types";

/** Limits of Cloudflare Queues: one message, one sendBatch call. */
export const QUEUE_LIMITS = { messageBytes: 128 * 1024, batchBytes: 256 * 1024, batchMessages: 100 } as const;

/** Parsed apart from a single order, not as a union of both, so a refusal says which limit. */
const OrderBatch = z
  .array(OrderMessage)
  .min(1, "must hold at least one order")
  .max(QUEUE_LIMITS.batchMessages, `must hold at most ${QUEUE_LIMITS.batchMessages} orders (one sendBatch call)`);

const jsonBytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

/**
 * The producer side of the order queue, to try the consumer:
 *
 *   POST /api/queue/orders  {instance_id?, params} or an array of those (1..100)
 *   202 {queue, instance_ids}; 409 naming the ids that already exist, sending nothing
 *
 * Each message is validated here exactly as a create would be (MyWorkflow params
 * through the instance core), so the consumer only meets messages it can start.
 * Without `instance_id` one is generated and returned: the consumer creates the
 * instance with it, and the caller can follow it at /api/workflows/my-workflow/instances/:id.
 */
const queueApi = new Hono<AppEnv>()
  .post("/orders", limitCreates(), async (c) => {
    const body = await jsonBody(c);
    const input = Array.isArray(body) ? parse(OrderBatch, body, "") : parse(OrderMessage, body, "");
    const orders = Array.isArray(input) ? input : [input];
    const definition = requireWorkflow(ORDER_WORKFLOW);
    const messages = orders.map((order, i) => {
      const prefix = Array.isArray(input) ? `${i}.` : "";
      assertPayloadSize(order.params, `${prefix}params`);
      parse(definition.params, order.params, `${prefix}params`);
      const body: OrderMessage = {
        instance_id: order.instance_id ?? `queue-${crypto.randomUUID()}`,
        params: order.params,
      };
      if (jsonBytes(body) > QUEUE_LIMITS.messageBytes) {
        throw new InstanceError(
          "too_large",
          `${prefix}params: a queue message holds at most ${QUEUE_LIMITS.messageBytes} bytes`,
          `${prefix}params`,
        );
      }
      return body;
    });
    const ids = messages.map((m) => m.instance_id!);
    const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
    if (repeated) throw invalid("instance_id", `${repeated} appears more than once`);
    if (jsonBytes(messages) > QUEUE_LIMITS.batchBytes) {
      throw new InstanceError(
        "too_large",
        `body: one request sends at most ${QUEUE_LIMITS.batchBytes} bytes of messages`,
        "body",
      );
    }
    // The consumer could only drop an order whose id is taken: say so now, while the caller waits.
    await assertIdsFree(
      c.env,
      definition,
      orders.flatMap((order) => (order.instance_id === undefined ? [] : [order.instance_id])),
    );
    // JSON content type: the consumer receives exactly the validated JSON.
    await c.env.ORDER_QUEUE.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
    return c.json(ok({ queue: ORDER_QUEUE, instance_ids: ids }), 202);
  })
  .all("/orders", methodNotAllowed("POST"));

/** The producer route, on the public API only. */
export const queueRoutes: RouteGroup = { path: "/api/queue", routes: queueApi };
