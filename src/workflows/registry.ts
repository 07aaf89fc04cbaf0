import type { z } from "zod";
import type { RegisteredWorkflowName } from "./names";
import { APPROVAL_EVENT, ApprovalPayload, ORDER_EXAMPLE, OrderParams } from "./order-schema";
import { PARENT_EXAMPLE, ParentParams } from "./parent-schema";
import { RESTOCK_EXAMPLE, RestockParams } from "./restock-schema";

export interface WorkflowDefinition {
  /** The `name` of the binding in wrangler.jsonc: the URL segment of the API (listed in names.ts). */
  name: RegisteredWorkflowName;
  class_name: string;
  binding: WorkflowBindingName;
  description: string;
  params: z.ZodType;
  /** Params that run to completion with no event sent. */
  example: unknown;
  /** The event types the workflow waits for, with their payload schemas. */
  events: Record<string, z.ZodType>;
}

type WorkflowBindingName = {
  [K in keyof Env]: Env[K] extends Workflow ? K : never;
}[keyof Env];

/**
 * The workflows this Worker defines. Keep in step with `workflows` in wrangler.jsonc and
 * with WORKFLOW_NAMES (names.ts).
 */
export const WORKFLOWS: readonly WorkflowDefinition[] = [
  {
    name: "my-workflow",
    class_name: "MyWorkflow",
    binding: "MY_WORKFLOW",
    description:
      "An order: validate, reserve stock, let payment settle, wait for approval when the total is above the threshold, then charge and ship.",
    params: OrderParams,
    example: ORDER_EXAMPLE,
    events: { [APPROVAL_EVENT]: ApprovalPayload },
  },
  {
    name: "parent-workflow",
    class_name: "ParentWorkflow",
    binding: "PARENT_WORKFLOW",
    description:
      "Fans out child orders (MyWorkflow) with deterministic ids, then optionally waits for each child to report and returns an aggregate.",
    params: ParentParams,
    example: PARENT_EXAMPLE,
    // Children report with `child-<n>` events; they are sent by MyWorkflow, not by people.
    events: {},
  },
  {
    name: "restock-workflow",
    class_name: "RestockWorkflow",
    binding: "RESTOCK_WORKFLOW",
    description:
      "A periodic restock of a list of SKUs: runs from `schedules` on its binding, from the Worker's Cron Trigger, or when created here.",
    params: RestockParams,
    example: RESTOCK_EXAMPLE,
    events: {},
  },
];

export function findWorkflow(name: string): WorkflowDefinition | undefined {
  return WORKFLOWS.find((w) => w.name === name);
}

/**
 * The binding of a workflow, typed loosely: callers validate params against the
 * definition's schema before they reach it.
 */
export function bindingOf(env: Env, definition: WorkflowDefinition): Workflow {
  return env[definition.binding] as Workflow;
}

export function bindingFor(env: Env, name: string): Workflow {
  const definition = findWorkflow(name);
  if (!definition) throw new Error(`unknown workflow ${name}`);
  return bindingOf(env, definition);
}
