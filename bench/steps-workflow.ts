import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { z } from "zod";
import { declareWorkflow } from "../src/workflows/declaration";
import { parseParams } from "../src/workflows/params";

/**
 * A bench-only workflow (never deployed: bench/history-worker.ts serves it): `steps` trivial
 * `step.do`s, one after the other, each optionally followed by a `gap_ms` sleep, so a run has a
 * history as long as asked, and its steps come one at a time for a subscriber to time.
 */
const BenchStepsParams = z.strictObject({
  steps: z.number().int().min(1).max(5000),
  gap_ms: z.number().int().min(0).max(10_000).default(0),
});
type BenchStepsParams = z.input<typeof BenchStepsParams>;

export const benchSteps = declareWorkflow({
  name: "bench-steps",
  // Bound only by bench/serve.mjs (BENCH_WORKFLOWS), so not in the generated Env.
  binding: "BENCH_STEPS" as keyof Env & string,
  description: "Bench only: N trivial steps.",
  params: BenchStepsParams,
  example: { steps: 10 },
});

export class BenchStepsWorkflow extends WorkflowEntrypoint<Env, BenchStepsParams> {
  static readonly declaration = benchSteps;

  override async run(event: WorkflowEvent<BenchStepsParams>, step: WorkflowStep) {
    const { steps, gap_ms } = await step.do("validate params", async () =>
      parseParams(BenchStepsParams, event.payload),
    );
    for (let i = 1; i <= steps; i++) {
      // One name: the platform numbers them (`step-1`, `step-2`...).
      await step.do("step", async () => i);
      if (gap_ms) await step.sleep("gap", gap_ms);
    }
    return { steps };
  }
}
