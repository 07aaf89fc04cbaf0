// Every workflow this Worker runs, one export line each: src/index.ts hands them to the
// runtime, and ./registry.ts lists them for the API, RPC and the dashboard. Each also needs
// its entry under `workflows` in wrangler.jsonc (the same name, binding and class name:
// test/unit/registry.test.ts checks all three agree).
export { MyWorkflow } from "./my-workflow";
export { ParentWorkflow } from "./parent-workflow"; // part: parent
export { RestockWorkflow } from "./restock-workflow";
