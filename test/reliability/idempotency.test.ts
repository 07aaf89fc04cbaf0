import { introspectWorkflow } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { startedIds, startedParams } from "../fuzz/started";
import { api, smallOrder, uniqueId, waitForApiStatus } from "../helpers";

const CONCURRENT = 20;

describe("creating with an instance_id is idempotent under concurrency", () => {
  it(`${CONCURRENT} concurrent creates with one id: exactly one 201, the rest 409, one instance`, async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const id = uniqueId("same-id");
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        api<{ id: string }>("POST", "/api/workflows/my-workflow/instances", {
          instance_id: id,
          params: smallOrder({ order_id: `attempt-${i}` }),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(CONCURRENT - 1).fill(409)]);
    for (const conflict of responses.filter((r) => r.status === 409)) {
      expect(conflict.body).toMatchObject({ success: false, result: null });
      expect(conflict.body.errors[0]).toMatchObject({
        code: 40900,
        message: expect.stringContaining("already exists"),
      });
    }
    const winner = responses.findIndex((r) => r.status === 201);
    expect(responses[winner]!.body.result!.id).toBe(id);

    // One instance, started with the winning request's params.
    expect((await startedIds(workflow)).filter((started) => started === id)).toHaveLength(1);
    expect(await startedParams(env.MY_WORKFLOW, id)).toMatchObject({ order_id: `attempt-${winner}` });
    const done = await waitForApiStatus("my-workflow", id, "complete");
    expect(done.output).toMatchObject({ outcome: "fulfilled" });
  });

  it(`${CONCURRENT / 2} concurrent batches naming one id: exactly one 201, the rest 409`, async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const id = uniqueId("same-batch-id");
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT / 2 }, () =>
        api("POST", "/api/workflows/my-workflow/instances/batch", [{ instance_id: id, params: smallOrder() }]),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, ...Array<number>(CONCURRENT / 2 - 1).fill(409)]);
    expect((await startedIds(workflow)).filter((started) => started === id)).toHaveLength(1);
  });

  it("a create racing a batch for the same id: one wins, one 409", async () => {
    const id = uniqueId("race");
    const [single, batch] = await Promise.all([
      api("POST", "/api/workflows/my-workflow/instances", { instance_id: id, params: smallOrder() }),
      api("POST", "/api/workflows/my-workflow/instances/batch", [{ instance_id: id, params: smallOrder() }]),
    ]);
    expect([single.status, batch.status].sort()).toEqual([201, 409]);
  });
});

describe("creating with an instance_id over RPC (WorkflowService) is idempotent under concurrency", () => {
  // A loopback service binding to the named entrypoint: each call is a real Workers RPC call.
  const service = exports.WorkflowService;

  it(`${CONCURRENT} concurrent create calls with one id: exactly one ok, the rest conflicts, one instance`, async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const id = uniqueId("rpc-same-id");
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        service.create("my-workflow", { instance_id: id, params: smallOrder({ order_id: `rpc-attempt-${i}` }) }),
      ),
    );
    const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    expect(results[winner]).toMatchObject({ ok: true, result: { id, workflow: "my-workflow" } });
    for (const [i, conflict] of results.entries()) {
      if (i === winner) continue;
      expect(conflict).toMatchObject({
        ok: false,
        error: { kind: "conflict", status: 409, code: 40900, message: expect.stringContaining("already exists") },
      });
    }

    // One instance, started with the winning call's params.
    expect((await startedIds(workflow)).filter((started) => started === id)).toHaveLength(1);
    expect(await startedParams(env.MY_WORKFLOW, id)).toMatchObject({ order_id: `rpc-attempt-${winner}` });
    const done = await waitForApiStatus("my-workflow", id, "complete");
    expect(done).toMatchObject({
      output: { outcome: "fulfilled", order_id: `rpc-attempt-${winner}` },
      started_by: "rpc",
    });
  });

  it(`${CONCURRENT / 2} concurrent createBatch calls naming one id: exactly one ok, the rest conflicts`, async () => {
    await using workflow = await introspectWorkflow(env.MY_WORKFLOW);
    const id = uniqueId("rpc-same-batch-id");
    const results = await Promise.all(
      Array.from({ length: CONCURRENT / 2 }, () =>
        service.createBatch("my-workflow", [{ instance_id: id, params: smallOrder() }]),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok))
      expect(r).toMatchObject({ ok: false, error: { kind: "conflict", status: 409 } });
    expect((await startedIds(workflow)).filter((started) => started === id)).toHaveLength(1);
  });
});
