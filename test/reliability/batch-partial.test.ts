import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CreatedInstance, settleBatch } from "../../src/instances/instances";
import { InstanceError } from "../../src/shared/errors";
import { findWorkflow } from "../../src/workflows/declaration";
import { instanceIndex } from "../../src/workflows/instance-records";
import { smallOrder, uniqueId, waitForApiStatus } from "../helpers";

/**
 * A batch the binding created only in part. The instance core checks every chosen id before
 * it creates a batch, so this happens only when another caller takes an id between that check
 * and the create: here the binding's own answer for such a batch (its object form reports the
 * ids it could not create in `errors`) is handed to the code that settles it.
 */
describe("a batch the binding created only in part", () => {
  it("records what was created and answers 409 naming the ids that were not", async () => {
    const existing = uniqueId("batch-taken");
    const fresh = uniqueId("batch-fresh");
    await env.MY_WORKFLOW.create({ id: existing, params: smallOrder() });
    const outcome = await env.MY_WORKFLOW.createBatch({
      instances: [
        { id: existing, params: smallOrder() },
        { id: fresh, params: smallOrder() },
      ],
    });
    // The binding's partial result, as it gives it.
    expect(outcome.created.map((i) => i.id)).toEqual([fresh]);
    expect(outcome.errors.map((e) => e.id)).toEqual([existing]);

    const definition = findWorkflow("my-workflow")!;
    let thrown: unknown;
    let settled: CreatedInstance[] | undefined;
    try {
      settled = await settleBatch(env, definition, outcome, "api", new Set([existing, fresh]));
    } catch (error) {
      thrown = error;
    }
    expect(settled).toBeUndefined();
    expect(thrown).toBeInstanceOf(InstanceError);
    expect(thrown).toMatchObject({ kind: "conflict", status: 409 });
    expect((thrown as Error).message).toBe(`instances of my-workflow already exist: ${existing}`);

    // The instance it did create is recorded, as started by the batch's trigger; the taken one is not.
    const index = instanceIndex(env, "my-workflow");
    expect(await index.get(fresh)).toMatchObject({ id: fresh, trigger: "api" });
    expect(await index.get(existing)).toBeNull();
    await waitForApiStatus("my-workflow", fresh, "complete");
  });
});
