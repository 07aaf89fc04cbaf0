import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  introspectWorkflow,
  introspectWorkflowInstance,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QUEUE_LIMITS } from "../../src/api/queue";
import entry from "../../src/index";
import { ORDER_QUEUE } from "../../src/triggers/queue";
import type { OrderOutput, OrderParamsInput } from "../../src/workflows/order-schema";
import { startedIds, startedParams } from "../fuzz/started";
import { api, captureConsole, listedSince, pollUntil, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
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
/** 100 items with 64-character SKUs: an order's params of about 11 KiB. */
const hundredItems = () =>
  Array.from({ length: 100 }, (_, i) => ({ sku: `${i}`.padEnd(64, "x"), quantity: 1, unit_price_cents: 1 }));

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

  it("its instances are listed as started by the queue", async () => {
    const since = new Date().toISOString();
    const messageId = hexId();
    const result = await deliver([{ id: messageId, body: { params: smallOrder() } }]);
    expect(result.explicitAcks).toEqual([messageId]);
    const viaQueue = `queue-${messageId}`;
    const listed = (await listedSince("my-workflow", since)).find((i) => i.id === viaQueue);
    expect(listed).toMatchObject({ started_by: "queue", trigger_source: "event" });
    await waitForApiStatus("my-workflow", viaQueue, "complete");
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

    using logs = captureConsole();
    const again = await deliver([{ ...message, attempts: 2 }]);
    expect(again.explicitAcks).toEqual([messageId]);
    expect(again.retryMessages).toEqual([]);
    expect(logs.lines).toContainEqual(
      expect.stringMatching(`message ${messageId} acked without starting anything: .* already exists \\(attempt 2\\)`),
    );
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
    using logs = captureConsole();
    const result = await deliver([
      { id: messageId, body },
      { id: messageId, body },
    ]);
    expect(result.explicitAcks).toEqual([messageId, messageId]);
    expect(logs.lines).toContainEqual(expect.stringMatching(`message ${messageId} acked without starting anything`));
    expect(await startedMatching(workflow, env.MY_WORKFLOW, isOrder(orderId))).toEqual([`queue-${messageId}`]);
    await waitForApiStatus("my-workflow", `queue-${messageId}`, "complete");
  });

  it("messages no retry can fix are acked and dropped", async () => {
    const invalid = hexId();
    const malformed = hexId();
    using logs = captureConsole();
    const result = await deliver([
      { id: invalid, body: { params: smallOrder({ customer_email: "not-an-email" }) } },
      { id: malformed, body: "just a string" },
    ]);
    expect(result.explicitAcks.sort()).toEqual([invalid, malformed].sort());
    // Each is logged with why it was dropped.
    expect(logs.lines).toContainEqual(expect.stringMatching(`message ${invalid} dropped: params.customer_email: `));
    expect(logs.lines).toContainEqual(expect.stringMatching(`message ${malformed} dropped: `));
    expect(result.retryMessages).toEqual([]);
    expect((await api("GET", `/api/workflows/my-workflow/instances/queue-${invalid}`)).status).toBe(404);
  });

  it("a batch from a queue it does not consume is retried", async () => {
    using logs = captureConsole();
    const result = await deliver([{ id: hexId(), body: { params: smallOrder() } }], "other-queue");
    expect(result.retryBatch.retry).toBe(true);
    expect(logs.lines).toContainEqual("no consumer for queue other-queue; retrying its messages");
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

  it("validates every order before sending any: each refused by its own rule, none sent", async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    // Every order of this test carries this prefix, so its starts can be counted.
    const tag = uniqueId("q-refused");
    let n = 0;
    const order = (overrides: Partial<OrderParamsInput> = {}) => ({
      params: smallOrder({ order_id: `${tag}-${n++}`, ...overrides }),
    });
    const taken = uniqueId("q-taken");
    expect(
      (await api("POST", "/api/workflows/my-workflow/instances", { instance_id: taken, params: smallOrder() })).status,
    ).toBe(201);
    const bulky = () => order({ items: hundredItems() });
    const email = (bytes: number) => `${"a".repeat(bytes)}@example.com`;

    const cases: [string, unknown, number, string, RegExp][] = [
      ["invalid params", order({ items: [] }), 400, "params.items", /^params\.items: /],
      [
        "a valid order, then one with an unknown field",
        [order(), { ...order(), extra: 1 }],
        400,
        "1.extra",
        /not an accepted field/,
      ],
      [
        "invalid params after a valid order",
        [order(), { params: { ...order().params, extra: 1 } }],
        400,
        "1.params.extra",
        /not an accepted field/,
      ],
      ["an impossible instance id", { instance_id: "bad id", ...order() }, 400, "instance_id", /must match/],
      ["a reserved instance id", { instance_id: "batch", ...order() }, 400, "instance_id", /is reserved/],
      [
        "one id twice",
        [
          { instance_id: `${tag}-x`, ...order() },
          { instance_id: `${tag}-x`, ...order() },
        ],
        400,
        "instance_id",
        /appears more than once/,
      ],
      ["no order", [], 400, "body", /^body: must hold at least one order$/],
      ["101 orders", Array.from({ length: 101 }, () => order()), 400, "body", /^body: must hold at most 100 orders/],
      [
        "params over 1 MiB",
        [order(), order({ customer_email: email(1024 * 1024) })],
        413,
        "1.params",
        /exceeds the 1048576-byte limit/,
      ],
      [
        "a message over 128 KiB",
        [order(), order({ customer_email: email(QUEUE_LIMITS.messageBytes) })],
        413,
        "1.params",
        /at most 131072 bytes/,
      ],
      [
        "over 256 KiB in all, no message over 128 KiB",
        Array.from({ length: 24 }, bulky),
        413,
        "body",
        /at most 262144 bytes/,
      ],
      [
        "an id that exists",
        [order(), { instance_id: taken, ...order() }],
        409,
        "",
        new RegExp(`already exist: ${taken}$`),
      ],
    ];
    for (const [what, body, status, field, message] of cases) {
      const res = await api("POST", "/api/queue/orders", body);
      expect(res.status, what).toBe(status);
      expect(res.body.errors[0]?.field, what).toBe(field || undefined);
      expect(res.body.errors[0]?.message, what).toMatch(message);
    }
    expect((await api("GET", "/api/queue/orders")).status).toBe(405);
    expect((await api("POST", "/api/queue/orders", order(), {})).status).toBe(401);

    // A last, valid order goes through the same queue: once it has started, anything sent
    // before it has been delivered too. It is the only order of this test that started.
    const last = order();
    const sent = await api<{ instance_ids: string[] }>("POST", "/api/queue/orders", last);
    expect(sent.status).toBe(202);
    const [lastId] = sent.body.result!.instance_ids;
    await waitForApiStatus("my-workflow", lastId!, "complete", 15_000);
    const mine = (params: unknown) => String((params as { order_id?: unknown })?.order_id).startsWith(`${tag}-`);
    expect(await startedMatching(workflow, env.MY_WORKFLOW, mine)).toEqual([lastId]);
  });

  it("accepts up to 256 KiB of messages in one request: 23 orders of 100 items, where 24 are refused", async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const tag = uniqueId("q-full");
    // Once started, each sleeps through an hour of settlement (the introspector's disposal
    // ends them): the runs cost the rest of the suite nothing.
    const orders = Array.from({ length: 23 }, (_, i) => ({
      params: smallOrder({ order_id: `${tag}-${i}`, items: hundredItems(), settlement_seconds: 3600 }),
    }));
    const res = await api<{ instance_ids: string[] }>("POST", "/api/queue/orders", orders);
    expect(res.status).toBe(202);
    const ids = res.body.result!.instance_ids;
    // The messages as sent (each with its instance id) come within 8 KiB of the limit.
    const messages = orders.map((o, i) => ({ instance_id: ids[i], params: o.params }));
    const bytes = new TextEncoder().encode(JSON.stringify(messages)).byteLength;
    expect(bytes).toBeGreaterThan(QUEUE_LIMITS.batchBytes - 8 * 1024);
    expect(bytes).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);

    // The consumer starts every one of them, with its order.
    await pollUntil(
      () => startedIds(workflow),
      (started) => ids.every((id) => started.includes(id)),
      "the consumer did not start every order",
      30_000,
    );
    const params = await Promise.all(ids.map((id) => startedParams(env.MY_WORKFLOW, id)));
    expect(params.map((p) => (p as { order_id: string }).order_id)).toEqual(orders.map((o) => o.params.order_id));
  });
});

describe("the queue producer and reserved ids", () => {
  it("refuses a reserved instance id, as a create does", async () => {
    const res = await api("POST", "/api/queue/orders", { instance_id: "bulk", params: smallOrder() });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errors[0]!.field).toBe("instance_id");
    expect(res.body.errors[0]!.message).toMatch(/reserved/);
  });
});
