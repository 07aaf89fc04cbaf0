// Every workflow this Worker runs, one export line each. This list is the registry
// (./registry.ts: the API, RPC and the dashboard serve what it holds), and src/index.ts
// hands it to the runtime. Each also needs its entry under `workflows` in wrangler.jsonc
// (the same name, binding and class name: test/unit/registry.test.ts checks all three agree).
export { MyWorkflow } from "./my-workflow";
export { ParentWorkflow } from "./parent-workflow"; // part: parent
export { RestockWorkflow } from "./restock-workflow";
