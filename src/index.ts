// The Worker, composed. The core (src/workflows, src/instances) and its fronts (src/api,
// src/rpc) are always here; each optional part plugs in on the lines marked with its name,
// which `npm run remove -- <part>` deletes along with the part's files (docs/make-it-yours.md).

import { agentRoutes } from "./agents/http"; // part: agent
import { splitAgentOrigin } from "./agents/report"; // part: agent
import { createApp } from "./api/app";
import { queueRoutes } from "./api/queue"; // part: queue
import type { RouteGroup } from "./api/types";
import { createWorkflowService } from "./rpc/workflow-service";
import { onQueue } from "./triggers/queue"; // part: queue
import { onScheduled } from "./triggers/scheduled"; // part: cron
import { addOriginSplitter } from "./workflows/run-origin"; // part: agent

export { WorkflowScheduler } from "./agents/workflow-scheduler"; // part: agent
export { InstanceIndex } from "./instances/instance-index";
export * from "./workflows"; // every workflow: src/workflows/index.ts is the list

addOriginSplitter(splitAgentOrigin); // part: agent (runs it started report to it: src/workflows/run-origin.ts)

/** The routes of the optional parts: on the public API, and on WorkflowService's `fetch` if they ask. */
const routes: RouteGroup[] = [
  queueRoutes, // part: queue
  agentRoutes, // part: agent
];

const app = createApp(routes);

/** Workflows over a service binding (Workers RPC): src/rpc/workflow-service.ts. */
export const WorkflowService = createWorkflowService(routes);

export default {
  fetch: app.fetch,
  scheduled: onScheduled, // part: cron
  queue: onQueue, // part: queue
} satisfies ExportedHandler<Env>;

// For callers of the Worker (the Pages app): the typed HTTP client's route table, RPC's argument types.
export type { App } from "./api/app";
export type { SubscribeOptions } from "./instances/instance-events";
export type {
  CreatedInstance,
  CreateOptions,
  InstanceDetailsQuery,
  ListInstancesQuery,
  RpcInstanceDetails,
  RpcStepQuery,
  SeedCreateResponse,
  StatusRequest,
} from "./rpc/workflow-service";
