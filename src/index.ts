import { app } from "./api/app";
import { onQueue } from "./triggers/queue";
import { onScheduled } from "./triggers/scheduled";

export { WorkflowScheduler } from "./agents/workflow-scheduler";
export { InstanceIndex } from "./instances/instance-index";
export { WorkflowService } from "./rpc/workflow-service";
export { MyWorkflow } from "./workflows/my-workflow";
export { ParentWorkflow } from "./workflows/parent-workflow";
export { RestockWorkflow } from "./workflows/restock-workflow";

export default {
  fetch: app.fetch,
  scheduled: onScheduled,
  queue: onQueue,
} satisfies ExportedHandler<Env>;
