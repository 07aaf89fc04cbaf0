import { describe, expect, inject, it } from "vitest";
import type { CreatedInstance } from "../../src/instances/instances";
import type { RpcInstanceDetails, SeedCreateResponse } from "../../src/rpc/workflow-service";
import type { Envelope } from "../../src/shared/envelope";
import { deployments, json, order, pages, pagesVia, uniqueId } from "./helpers";

/**
 * The built Pages Functions, called as a browser would call them, with the built
 * Worker beside them: /rpc/* crosses the WORKFLOW_SERVICE service binding, /http/*
 * fetches the Worker's public API with the bearer token.
 */
const wrongTokenPages = (path: string, init?: RequestInit) => pagesVia(deployments.PAGES_WITH_WRONG_TOKEN, path, init);

async function read<T>(res: Response) {
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

async function waitForStatus(path: "rpc" | "http", id: string, status: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const res = await read<RpcInstanceDetails>(await pages(`/${path}/workflows/my-workflow/instances/${id}`));
    last = res.body.result?.status ?? `http ${res.status}`;
    if (last === status) return res.body.result!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`instance ${id} did not reach ${status} via /${path} within ${timeoutMs} ms (last: ${last})`);
}

describe.each(["rpc", "http"] as const)("Pages Functions, /%s path", (path) => {
  it("lists the Worker's workflows", async () => {
    const res = await read<{ name: string }[]>(await pages(`/${path}/workflows`));
    expect(res.status).toBe(200);
    expect(res.body.result?.map((w) => w.name).sort()).toEqual([...inject("workflowNames")].sort());
  });

  it("starts a workflow and reads it to completion", async () => {
    const id = uniqueId(path);
    const created = await read<CreatedInstance>(
      await pages(`/${path}/workflows/my-workflow/instances`, json("POST", { instance_id: id, params: order() })),
    );
    expect(created).toMatchObject({
      status: 201,
      body: { success: true, errors: [], messages: [], result: { id, workflow: "my-workflow", status: "queued" } },
    });

    const done = await waitForStatus(path, id, "complete");
    expect(done.output).toMatchObject({ order_id: "ord-pages", outcome: "fulfilled", payment_id: `pay-${id}` });
    // The instance index records which path started it.
    expect(done.started_by).toBe(path === "rpc" ? "rpc" : "api");

    const listed = await read<{ id: string }[]>(await pages(`/${path}/workflows/my-workflow/instances?per_page=100`));
    expect(listed.status).toBe(200);
    expect(listed.body.result?.map((i) => i.id)).toContain(id);
    expect(listed.body.result_info).toMatchObject({ page: 1, per_page: 100 });
  });

  it("creates a batch, steers an instance and sends it an event", async () => {
    const [a, b] = [uniqueId(`${path}-batch`), uniqueId(`${path}-batch`)];
    const waiting = { ...order(), items: [{ sku: "piano", quantity: 1, unit_price_cents: 250_000 }] };
    const batch = await read<CreatedInstance[]>(
      await pages(
        `/${path}/workflows/my-workflow/instances/batch`,
        json("POST", [
          { instance_id: a, params: waiting },
          { instance_id: b, params: order() },
        ]),
      ),
    );
    expect(batch.status).toBe(201);
    expect(batch.body.result?.map((i) => i.id)).toEqual([a, b]);

    const statusPath = `/${path}/workflows/my-workflow/instances/${a}/status`;
    const paused = await read<{ status: string }>(await pages(statusPath, json("PATCH", { status: "pause" })));
    expect(paused).toMatchObject({ status: 200, body: { result: { status: "paused" } } });
    const again = await read(await pages(statusPath, json("PATCH", { status: "pause" })));
    expect(again).toMatchObject({ status: 409, body: { success: false, errors: [{ code: 40900 }] } });
    const resumed = await read<{ status: string }>(await pages(statusPath, json("PATCH", { status: "resume" })));
    expect(resumed.body.result?.status).toBe("running");

    const event = await read(
      await pages(
        `/${path}/workflows/my-workflow/instances/${a}/events/approval`,
        json("POST", { approved: true, by: "pages" }),
      ),
    );
    expect(event).toMatchObject({ status: 202, body: { result: { id: a, type: "approval" } } });
    expect((await waitForStatus(path, a, "complete")).output).toMatchObject({
      approval: { required: true, by: "pages" },
    });
  });

  it("passes the Worker's errors back with their status and envelope", async () => {
    const missing = await read(await pages(`/${path}/workflows/my-workflow/instances/${uniqueId("missing")}`));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ success: false, result: null, errors: [{ code: 40400 }] });

    const noWorkflow = await read(await pages(`/${path}/workflows/nope/instances`, json("POST", {})));
    expect(noWorkflow.status).toBe(404);

    const invalid = await read(
      await pages(`/${path}/workflows/my-workflow/instances`, json("POST", { params: { order_id: "x" } })),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors[0]).toMatchObject({ code: 40000, field: "params.customer_email" });

    const malformed = await read(
      await pages(`/${path}/workflows/my-workflow/instances`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0]?.message).toContain("malformed JSON");

    const id = uniqueId(`${path}-dup`);
    expect(
      (await pages(`/${path}/workflows/my-workflow/instances`, json("POST", { instance_id: id, params: order() })))
        .status,
    ).toBe(201);
    const duplicate = await read(
      await pages(`/${path}/workflows/my-workflow/instances`, json("POST", { instance_id: id, params: order() })),
    );
    expect(duplicate).toMatchObject({ status: 409, body: { errors: [{ code: 40900 }] } });
  });
});

describe("Pages Functions, a path parameter holding an encoded path", () => {
  it.each(["rpc", "http"] as const)("stays in its segment on the /%s path", async (path) => {
    // Decoded, this id reads `../../../queue/orders?`: put into the Worker's URL as it
    // is, it would make the fetch path POST the body to /api/queue/orders, with the token.
    const id = "..%2F..%2F..%2Fqueue%2Forders%3F";
    const res = await read(
      await pages(`/${path}/workflows/my-workflow/instances/${id}/events/x`, json("POST", { orders: [] })),
    );
    expect(res).toMatchObject({ status: 400, body: { success: false, errors: [{ field: "instance_id" }] } });
  });

  it.each(["rpc", "http"] as const)("a broken escape in the path or query is the Worker's 4xx on /%s", async (path) => {
    for (const url of [
      `/${path}/workflows/my-workflow/instances?%zz=%`,
      `/${path}/workflows/my-workflow/instances/a%/status`,
      `/${path}/workflows/%/instances`,
    ]) {
      const res = await read(await pages(url));
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(res.status, url).toBeLessThan(500);
    }
  });
});

describe("Pages Functions, the fetch path's token", () => {
  it("gets the Worker's 401 back when the Pages project holds a wrong token", async () => {
    const res = await read(
      await wrongTokenPages("/http/workflows/my-workflow/instances", json("POST", { params: order() })),
    );
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      success: false,
      result: null,
      errors: [{ code: 40100, message: "invalid API token" }],
    });

    // The same project's RPC path needs no token: the binding is the credential.
    const rpc = await wrongTokenPages("/rpc/workflows");
    expect(rpc.status).toBe(200);
  });
});

describe("the guide's Pages Function, verbatim (/guide/create)", () => {
  // functions/guide/create.js is the guide's JavaScript Function byte for byte: it calls
  // createInstance({ hello: "world" }) on the WORKFLOWS_SERVICE binding. That payload is
  // not MyWorkflow params, so the validating Worker answers 400 with the v4 envelope
  // naming the first field at fault, and starts nothing.
  const expected = {
    success: false,
    errors: [
      {
        code: 40000,
        message: "params.order_id: Invalid input: expected string, received undefined",
        field: "params.order_id",
      },
    ],
    messages: [],
    result: null,
  };

  it("reaches WorkflowService.createInstance through WORKFLOWS_SERVICE and gets the Worker's 400", async () => {
    const res = await pages("/guide/create", json("POST", {}));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(expected);
  });

  it("answers as the Worker's other fronts answer the same params", async () => {
    const body = { params: { hello: "world" } };
    for (const path of ["rpc", "http"] as const) {
      const res = await read(await pages(`/${path}/workflows/my-workflow/instances`, json("POST", body)));
      expect(res, path).toEqual({ status: 400, body: expected });
    }
  });
});

describe("the guide's Pages Function, adapted (/seed/create)", () => {
  it("creates a MyWorkflow instance through createInstance(payload) and returns { id, details }", async () => {
    const res = await pages("/seed/create", json("POST", {}));
    expect(res.status).toBe(200);
    const body = (await res.json()) as SeedCreateResponse;
    expect(body.id).toMatch(/^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/);
    expect(body.details.status).toBe("running");

    // Its default settlement window is one second (a durable step.sleep).
    const done = await waitForStatus("rpc", body.id, "complete");
    expect(done.output).toMatchObject({ order_id: "ord-1001", outcome: "fulfilled" });
  });
});

describe("the /worker/* pass-through to WorkflowService.fetch", () => {
  it("serves the Worker's API routes without a token", async () => {
    const list = await read<{ name: string }[]>(await pages("/worker/api/workflows"));
    expect(list.status).toBe(200);
    expect(list.body.result?.map((w) => w.name)).toContain("my-workflow");

    const id = uniqueId("proxy");
    const created = await pages(
      "/worker/api/workflows/my-workflow/instances",
      json("POST", { instance_id: id, params: order() }),
    );
    expect(created.status).toBe(201);
    await waitForStatus("http", id, "complete");

    const missing = await pages(`/worker/api/workflows/my-workflow/instances/${uniqueId("missing")}`);
    expect(missing.status).toBe(404);
  });
});
