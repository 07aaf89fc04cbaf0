import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RpcInstanceDetails, SeedCreateResponse } from "../../src/rpc/workflow-service";
import type { Envelope } from "../../src/shared/envelope";
import { RpcCallError, type RpcResult, rpcResponse, unwrap } from "../../src/shared/rpc-result";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { LIMITS } from "../../src/workflows/platform-limits";
import { WORKFLOWS } from "../../src/workflows/registry";
import { largeOrder, pollUntil, smallOrder, uniqueId } from "../helpers";

/**
 * WorkflowService through `exports.WorkflowService`: a loopback service binding to
 * the named entrypoint, so every call below is a real Workers RPC call (arguments and
 * results are serialized across it), exactly as a Pages Function's binding makes it.
 */
const service = exports.WorkflowService;

function expectError(result: RpcResult<unknown>, kind: string, status: number) {
  expect(result.ok).toBe(false);
  if (result.ok) return undefined as never;
  expect(result.error).toMatchObject({ kind, status, code: status * 100 });
  return result.error;
}

async function waitForRpcStatus(workflow: string, id: string, status: string, timeoutMs = 10_000) {
  const last = await pollUntil<RpcResult<RpcInstanceDetails>>(
    async () => service.status(workflow, id),
    (r) => r.ok && r.result.status === status,
    `instance ${id} did not reach ${status}`,
    timeoutMs,
  );
  return unwrap(last);
}

describe("WorkflowService over RPC", () => {
  it("lists the workflows with their params schemas", async () => {
    const workflows = unwrap(await service.listWorkflows());
    expect(workflows.map((w) => w.name)).toEqual(WORKFLOWS.map((w) => w.name));
    const order = workflows.find((w) => w.name === "my-workflow")!;
    expect(order).toMatchObject({ class_name: "MyWorkflow", binding: "MY_WORKFLOW" });
    expect(order.params_schema).toHaveProperty("properties.order_id");
    expect(order.events.map((e) => e.type)).toEqual(["approval"]);
  });

  it("creates an instance and reads it to completion", async () => {
    const id = uniqueId("rpc");
    const created = await service.create("my-workflow", { instance_id: id, params: smallOrder() });
    expect(created).toMatchObject({ ok: true, result: { id, workflow: "my-workflow", status: "queued" } });

    const done = await waitForRpcStatus("my-workflow", id, "complete");
    expect(done.output).toMatchObject({ outcome: "fulfilled", total_cents: 3000, payment_id: `pay-${id}` });
    expect(done.started_by).toBe("rpc");
  });

  it("lists instances with the HTTP API's query, and rejects a bad one", async () => {
    const id = uniqueId("rpc-list");
    unwrap(await service.create("my-workflow", { instance_id: id, params: smallOrder() }));
    const page = unwrap(await service.listInstances("my-workflow", { per_page: 100 }));
    expect(page.items.find((i) => i.id === id)).toMatchObject({ workflow: "my-workflow", started_by: "rpc" });
    expect(page.result_info).toMatchObject({ page: 1, per_page: 100 });

    const bad = expectError(await service.listInstances("my-workflow", { per_page: 500 }), "invalid_input", 400);
    expect(bad.field).toBe("per_page");
    expectError(await service.listInstances("no-such-workflow"), "not_found", 404);
  });

  it("creates a batch, and refuses repeated or existing ids", async () => {
    const [a, b] = [uniqueId("rpc-batch"), uniqueId("rpc-batch")];
    const batch = unwrap(
      await service.createBatch("my-workflow", [
        { instance_id: a, params: smallOrder() },
        { instance_id: b, params: smallOrder({ order_id: "ord-2" }) },
      ]),
    );
    expect(batch.map((i) => i.id)).toEqual([a, b]);

    const repeated = expectError(
      await service.createBatch("my-workflow", [
        { instance_id: "twice", params: smallOrder() },
        { instance_id: "twice", params: smallOrder() },
      ]),
      "invalid_input",
      400,
    );
    expect(repeated.field).toBe("instance_id");

    const existing = expectError(
      await service.createBatch("my-workflow", [{ instance_id: a, params: smallOrder() }]),
      "conflict",
      409,
    );
    expect(existing.message).toContain(a);
    expectError(await service.createBatch("my-workflow", []), "invalid_input", 400);
  });

  it("tells not found, conflict and invalid input apart", async () => {
    const id = uniqueId("rpc-err");
    unwrap(await service.create("my-workflow", { instance_id: id, params: smallOrder() }));

    expectError(await service.create("my-workflow", { instance_id: id, params: smallOrder() }), "conflict", 409);
    expectError(await service.create("no-such-workflow", { params: smallOrder() }), "not_found", 404);
    expectError(await service.status("my-workflow", uniqueId("missing")), "not_found", 404);

    const badParams = expectError(
      await service.create("my-workflow", { params: smallOrder({ customer_email: "not-an-email" }) }),
      "invalid_input",
      400,
    );
    expect(badParams.field).toBe("params.customer_email");

    const badId = expectError(await service.status("my-workflow", "-leading-dash"), "invalid_input", 400);
    expect(badId.field).toBe("instance_id");

    // Arguments are `unknown` at runtime whatever the types say; the core validates them.
    const wrongShape = expectError(
      await service.create("my-workflow", { instance_id: 42 } as unknown as { instance_id: string }),
      "invalid_input",
      400,
    );
    expect(wrongShape.field).toBe("instance_id");
  });

  it("pauses, resumes, terminates and restarts, refusing actions the state does not allow", async () => {
    const id = uniqueId("rpc-life");
    unwrap(await service.create("my-workflow", { instance_id: id, params: largeOrder() }));

    expect(unwrap(await service.pause("my-workflow", id))).toMatchObject({ id, status: "paused" });
    expectError(await service.pause("my-workflow", id), "conflict", 409);
    expect(unwrap(await service.resume("my-workflow", id)).status).toBe("running");
    expectError(await service.resume("my-workflow", id), "conflict", 409);

    const terminated = unwrap(await service.terminate("my-workflow", id));
    expect(terminated.status).toBe("terminated");
    expect(Date.parse(terminated.timestamp)).not.toBeNaN();
    expectError(await service.terminate("my-workflow", id), "conflict", 409);
    expectError(await service.sendEvent("my-workflow", id, "approval", { approved: true, by: "x" }), "conflict", 409);

    expect(unwrap(await service.restart("my-workflow", id)).status).toBe("running");
    // changeStatus takes the HTTP API's PATCH body, validated by the core.
    expect(unwrap(await service.changeStatus("my-workflow", id, { status: "pause" })).status).toBe("paused");
    const badAction = expectError(
      await service.changeStatus("my-workflow", id, { status: "stop" } as unknown as { status: "pause" }),
      "invalid_input",
      400,
    );
    expect(badAction.field).toBe("status");
    expectError(await service.pause("my-workflow", uniqueId("missing")), "not_found", 404);
  });

  it("sends an event that the instance waits for", async () => {
    const id = uniqueId("rpc-event");
    unwrap(await service.create("my-workflow", { instance_id: id, params: largeOrder() }));

    const bad = expectError(
      await service.sendEvent("my-workflow", id, "approval", { approved: "yes", by: "ops" }),
      "invalid_input",
      400,
    );
    expect(bad.field).toBe("payload.approved");
    expectError(await service.sendEvent("my-workflow", id, "bad type!", {}), "invalid_input", 400);
    const approval = { approved: true, by: "ops" };
    expectError(await service.sendEvent("my-workflow", uniqueId("missing"), "approval", approval), "not_found", 404);

    expect(unwrap(await service.sendEvent("my-workflow", id, "approval", approval))).toEqual({
      instanceId: id,
      timestamp: expect.any(String),
      id,
      type: "approval",
    });
    const done = await waitForRpcStatus("my-workflow", id, "complete");
    expect((done.output as unknown as OrderOutput).approval).toEqual({ required: true, by: "ops" });
  });

  it("refuses more than 1 MiB in create, createBatch and sendEvent, creating and sending nothing", async () => {
    const over = "x".repeat(LIMITS.payloadBytes);
    const exists = async (id: string) => (await service.status("my-workflow", id)).ok;

    const id = uniqueId("rpc-big");
    const big = expectError(
      await service.create("my-workflow", { instance_id: id, params: { ...smallOrder(), note: over } }),
      "too_large",
      413,
    );
    expect(big).toMatchObject({
      field: "params",
      message: expect.stringMatching(/^params: \d+ bytes exceeds the 1048576-byte limit$/),
    });
    expect(await exists(id)).toBe(false);

    // One item over the limit, and items each under it that are over it together.
    const [a, b] = [uniqueId("rpc-big-batch"), uniqueId("rpc-big-batch")];
    const oneItem = expectError(
      await service.createBatch("my-workflow", [
        { instance_id: a, params: smallOrder() },
        { instance_id: b, params: { ...smallOrder(), note: over } },
      ]),
      "too_large",
      413,
    );
    expect(oneItem.field).toBe("1.params");
    // Valid params, each half the limit: over it together.
    const half = "y".repeat(LIMITS.payloadBytes / 2);
    const together = expectError(
      await service.createBatch("my-workflow", [
        { instance_id: a, params: smallOrder({ customer_email: `${half}@example.com` }) },
        { instance_id: b, params: smallOrder({ customer_email: `${half}@example.com` }) },
      ]),
      "too_large",
      413,
    );
    expect(together.field).toBe("body");
    expect(await exists(a)).toBe(false);
    expect(await exists(b)).toBe(false);

    // A rejection over the limit does not reach the order waiting for approval: the
    // approval sent next does, and the order is fulfilled.
    const waiting = uniqueId("rpc-big-event");
    unwrap(await service.create("my-workflow", { instance_id: waiting, params: largeOrder() }));
    const rejection = { approved: false, by: "big", note: over };
    expect(
      expectError(await service.sendEvent("my-workflow", waiting, "approval", rejection), "too_large", 413).field,
    ).toBe("payload");
    expect(
      expectError(await service.sendEvent("my-workflow", waiting, "custom", { pad: over }), "too_large", 413).field,
    ).toBe("payload");
    unwrap(await service.sendEvent("my-workflow", waiting, "approval", { approved: true, by: "ops" }));
    const done = await waitForRpcStatus("my-workflow", waiting, "complete");
    expect(done.output).toMatchObject({ outcome: "fulfilled", approval: { required: true, by: "ops" } });
  });

  it("keeps the seed's createInstance(payload) contract: Response.json({ id, details })", async () => {
    const res = await service.createInstance(smallOrder());
    expect(res.status).toBe(200);
    const body = (await res.json()) as SeedCreateResponse;
    expect(body.details.status).toBe("running");
    await waitForRpcStatus("my-workflow", body.id, "complete");

    // The guide's own payload is not an order: a 400 naming the field, no instance.
    const invalid = await service.createInstance({ hello: "world" });
    expect(invalid.status).toBe(400);
    const envelope = (await invalid.json()) as Envelope<null>;
    expect(envelope.success).toBe(false);
    expect(envelope.errors[0]).toMatchObject({ code: 40000, field: "params.order_id" });
  });

  it("serves the API routes to trusted callers through fetch, without a token", async () => {
    const list = await service.fetch("https://service/api/workflows");
    expect(list.status).toBe(200);
    expect(((await list.json()) as Envelope<{ name: string }[]>).result?.map((w) => w.name)).toContain("my-workflow");

    const id = uniqueId("rpc-fetch");
    const created = await service.fetch("https://service/api/workflows/my-workflow/instances", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ instance_id: id, params: smallOrder() }),
    });
    expect(created.status).toBe(201);
    const missing = await service.fetch(`https://service/api/workflows/my-workflow/instances/${uniqueId("missing")}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Envelope<null>).errors[0]?.code).toBe(40400);

    // The same routes on the public entry still demand the token.
    const publicApi = await exports.default.fetch("https://worker/api/workflows");
    expect(publicApi.status).toBe(401);
  });

  it("gives callers the status back: unwrap throws it, rpcResponse answers with it", async () => {
    const missing = await service.status("my-workflow", uniqueId("missing"));
    let thrown: unknown;
    try {
      unwrap(missing);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RpcCallError);
    expect(thrown).toMatchObject({ kind: "not_found", status: 404, code: 40400 });

    const res = rpcResponse(missing);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, result: null, errors: [{ code: 40400 }] });
    expect(rpcResponse(await service.listWorkflows(), 200).status).toBe(200);
  });
});
