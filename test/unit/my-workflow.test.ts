import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import type { OrderOutput } from "../../src/workflows/order-schema";
import { largeOrder, smallOrder, uniqueId } from "../helpers";

describe("MyWorkflow", () => {
  it("fulfils a small order without approval", async () => {
    const id = uniqueId("small");
    await using instance = await introspectWorkflowInstance(env.MY_WORKFLOW, id);
    await instance.modify(async (m) => m.disableSleeps());
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    await instance.waitForStatus("complete");
    const output = (await instance.getOutput()) as OrderOutput;
    expect(output).toMatchObject({ outcome: "fulfilled", total_cents: 3000, approval: { required: false } });
    expect(output.payment_id).toBe(`pay-${id}`);
  });
});
