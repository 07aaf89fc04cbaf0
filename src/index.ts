import { app } from "./api/app";

export { MyWorkflow } from "./workflows/my-workflow";
export { ParentWorkflow } from "./workflows/parent-workflow";
export { InstanceIndex } from "./instances/instance-index";
export { WorkflowService } from "./rpc/workflow-service";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
