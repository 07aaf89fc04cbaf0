/**
 * The bench's history rows serve this entry: the Worker as deployed (src/index.ts) plus
 * BenchStepsWorkflow (./steps-workflow.ts), bound as BENCH_STEPS by bench/serve.mjs. Never deployed.
 */
import worker from "../src/index";

export * from "../src/index";
export { BenchStepsWorkflow } from "./steps-workflow";
export default worker;
