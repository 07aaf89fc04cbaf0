import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  introspectWorkflow,
  introspectWorkflowInstance,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import entry from "../../src/index";
import { ORDER_QUEUE } from "../../src/triggers/queue";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { api, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { isOrder, startedMatching } from "../workflow-history";

const handler: ExportedHandler<Env> = entry;

/** Delivers messages to the Worker's `queue` handler, as the Queues consumer would. */
async function deliver(messages: { id: string; body: unknown; attempts?: number }[], queue = ORDER_QUEUE) {
  const batch = createMessageBatch(
    queue,
    messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await handler.queue!(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const hexId = () => crypto.randomUUID().replaceAll("-", "");

describe("queue consumer", () => {
  it("starts one instance per message, with an id from the message", async () => {
    const messageId = hexId();
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, `queue-${messageId}`);
    const result = await deliver([{ id: messageId, body: { params: smallOrder({ order_id: "q-1" }) } }]);
    expect(result.explicitAcks).toEqual([messageId]);
    expect(result.retryMessages).toEqual([]);
    await instance.waitForStatus("complete");
    expect(((await instance.getOutput()) as OrderOutput).order_id).toBe("q-1");
    const details = await api<{ started_by: string }>("GET", `/api/workflows/my-workflow/instances/queue-${messageId}`);
    expect(details.body.result!.started_by).toBe("queue");
  });

  it("a redelivered message is acked and starts nothing new", async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const messageId = hexId();
    const orderId = uniqueId("redelivered");
    const message = {
      id: messageId,
      body: { instance_id: uniqueId("order"), params: smallOrder({ order_id: orderId }) },
    };
    expect((await deliver([message])).explicitAcks).toEqual([messageId]);
    await waitForApiStatus("my-workflow", message.body.instance_id, "complete");

    const again = await deliver([{ ...message, attempts: 2 }]);
    expect(again.explicitAcks).toEqual([messageId]);
    expect(again.retryMessages).toEqual([]);
    // Both deliveries have returned, so any instance they started is counted here:
    // exactly one carries this message's order, under the message's id.
    expect(await startedMatching(workflow, env.MY_WORKFLOW, isOrder(orderId))).toEqual([message.body.instance_id]);
    const after = await api<{ status: string }>(
      "GET",
      `/api/workflows/my-workflow/instances/${message.body.instance_id}`,
    );
    expect(after.body.result!.status).toBe("complete");
  });

  it("the same message twice in one batch starts one instance", async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const messageId = hexId();
    const orderId = uniqueId("twice");
    const body = { params: smallOrder({ order_id: orderId }) };
    const result = await deliver([
      { id: messageId, body },
      { id: messageId, body },
    ]);
    expect(result.explicitAcks).toEqual([messageId, messageId]);
    expect(await startedMatching(workflow, env.MY_WORKFLOW, isOrder(orderId))).toEqual([`queue-${messageId}`]);
    await waitForApiStatus("my-workflow", `queue-${messageId}`, "complete");
  });

  it("messages no retry can fix are acked and dropped", async () => {
    const invalid = hexId();
    const malformed = hexId();
    const result = await deliver([
      { id: invalid, body: { params: smallOrder({ customer_email: "not-an-email" }) } },
      { id: malformed, body: "just a string" },
    ]);
    expect(result.explicitAcks.sort()).toEqual([invalid, malformed].sort());
    expect(result.retryMessages).toEqual([]);
    expect((await api("GET", `/api/workflows/my-workflow/instances/queue-${invalid}`)).status).toBe(404);
  });

  it("a batch from a queue it does not consume is retried", async () => {
    const result = await deliver([{ id: hexId(), body: { params: smallOrder() } }], "other-queue");
    expect(result.retryBatch.retry).toBe(true);
  });
});

describe("POST /api/queue/orders (producer)", () => {
  it("sends orders through the real queue; the consumer starts them", async () => {
    const id = uniqueId("order");
    const res = await api<{ queue: string; instance_ids: string[] }>("POST", "/api/queue/orders", [
      { instance_id: id, params: smallOrder({ order_id: "p-1" }) },
      { params: smallOrder({ order_id: "p-2" }) },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.result!.queue).toBe("orders");
    const [first, second] = res.body.result!.instance_ids;
    expect(first).toBe(id);
    expect(second).toMatch(/^queue-[0-9a-f-]{36}$/);
    const done = await waitForApiStatus("my-workflow", second!, "complete", 15_000);
    expect((done.output as OrderOutput).order_id).toBe("p-2");
    await waitForApiStatus("my-workflow", first!, "complete", 15_000);
  });

  it("a single order is accepted too", async () => {
    const res = await api<{ instance_ids: string[] }>("POST", "/api/queue/orders", { params: smallOrder() });
    expect(res.status).toBe(202);
    await waitForApiStatus("my-workflow", res.body.result!.instance_ids[0]!, "complete", 15_000);
  });

  it("validates every order before sending any", async () => {
    const cases: [unknown, number, string][] = [
      [{ params: smallOrder({ items: [] }) }, 400, "params.items"],
      [[{ params: smallOrder() }, { params: { ...smallOrder(), extra: 1 } }], 400, "1.params.extra"],
      [{ instance_id: "bad id", params: smallOrder() }, 400, "instance_id"],
      [
        [
          { instance_id: "same", params: smallOrder() },
          { instance_id: "same", params: smallOrder() },
        ],
        400,
        "instance_id",
      ],
      [[], 400, ""],
      [
        {
          params: smallOrder({
            items: Array.from({ length: 100 }, (_, i) => ({
              sku: "x".repeat(64) + i,
              quantity: 1,
              unit_price_cents: 1,
            })),
          }),
        },
        400,
        "",
      ],
    ];
    for (const [body, status, field] of cases) {
      const res = await api("POST", "/api/queue/orders", body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      if (field) expect(res.body.errors[0]!.field).toBe(field);
    }
    expect((await api("GET", "/api/queue/orders")).status).toBe(405);
    expect((await api("POST", "/api/queue/orders", { params: smallOrder() }, {})).status).toBe(401);
  });
});
