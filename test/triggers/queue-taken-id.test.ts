import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import entry from "../../src/index";
import { ORDER_QUEUE } from "../../src/triggers/queue";
import { instanceIndex } from "../../src/workflows/instance-records";
import { api, captureConsole, smallOrder, uniqueId, waitForApiStatus } from "../helpers";

const handler: ExportedHandler<Env> = entry;
const INSTANCES = "/api/workflows/my-workflow/instances";
const indexed = (id: string) => instanceIndex(env, "my-workflow").get(id);

/** Delivers messages to the Worker's `queue` handler, as the Queues consumer would. */
async function deliver(messages: { id: string; body: unknown }[]) {
  const batch = createMessageBatch(
    ORDER_QUEUE,
    messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await handler.queue!(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const hexId = () => crypto.randomUUID().replaceAll("-", "");

async function createOrder(id: string) {
  expect((await api("POST", INSTANCES, { instance_id: id, params: smallOrder() })).status).toBe(201);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("an order message whose instance id is taken", () => {
  it("POST /api/queue/orders answers 409 naming the id, and sends none of the orders", async () => {
    const taken = uniqueId("taken");
    await createOrder(taken);
    const fresh = uniqueId("fresh");
    const res = await api("POST", "/api/queue/orders", [
      { instance_id: fresh, params: smallOrder() },
      { instance_id: taken, params: smallOrder({ order_id: "would-be-lost" }) },
    ]);
    expect(res.status).toBe(409);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(res.body.errors[0]!.message).toContain(taken);
    expect(res.body.errors[0]!.message).not.toContain(fresh);

    // An order sent afterwards goes through; once the consumer has started it, the refused
    // batch, had it been sent, would have been delivered first.
    const control = await api<{ instance_ids: string[] }>("POST", "/api/queue/orders", { params: smallOrder() });
    expect(control.status).toBe(202);
    await waitForApiStatus("my-workflow", control.body.result!.instance_ids[0]!, "complete", 15_000);
    expect((await api("GET", `${INSTANCES}/${fresh}`)).status).toBe(404);
  });

  it("the consumer acks it and logs the message, the id and why its params were not used", async () => {
    const taken = uniqueId("taken");
    await createOrder(taken);
    const logged: string[] = [];
    for (const level of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(" "));
      });
    }
    const messageId = hexId();
    const result = await deliver([
      { id: messageId, body: { instance_id: taken, params: smallOrder({ order_id: "would-be-lost" }) } },
    ]);
    expect(result.explicitAcks).toEqual([messageId]);
    expect(result.retryMessages).toEqual([]);

    const lines = logged.filter((line) => line.includes(messageId));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(taken);
    expect(lines[0]).toMatch(/already exists/);
    expect(lines[0]).toMatch(/params/);
  });
});

describe("the instance index, when a redelivery meets an instance whose record was lost", () => {
  it("records an existing id a queue retry is refused for (409), so a lost record is not lost for good", async () => {
    const messageId = crypto.randomUUID().replaceAll("-", "");
    const id = `queue-${messageId}`;
    // The first delivery created the instance, and its record was lost.
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    expect(await indexed(id)).toBeNull();

    using logs = captureConsole();
    const batch = createMessageBatch(ORDER_QUEUE, [
      { id: messageId, timestamp: new Date(), attempts: 2, body: { params: smallOrder() } },
    ]);
    const ctx = createExecutionContext();
    await handler.queue!(batch, env, ctx);
    await getQueueResult(batch, ctx);
    expect(await indexed(id)).toMatchObject({ id, trigger: "unknown" });
    expect(logs.lines).toContainEqual(expect.stringMatching(`message ${messageId} acked without starting anything`));
    await waitForApiStatus("my-workflow", id, "complete");
  });
});
