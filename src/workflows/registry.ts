import type { WorkflowDefinition } from "./define";
import * as workflows from "./index";

/** A workflow of this Worker: its definition, and the name its class is exported under. */
export interface RegisteredWorkflow extends WorkflowDefinition {
  /** The `class_name` of its entry in wrangler.jsonc: the name ./index.ts exports it under. */
  class_name: string;
}

/** The workflows this Worker defines: every class ./index.ts exports, in its order. */
export const WORKFLOWS: readonly RegisteredWorkflow[] = Object.entries(workflows).map(([className, workflow]) => ({
  ...workflow.definition,
  class_name: className,
}));

export function findWorkflow(name: string): RegisteredWorkflow | undefined {
  return WORKFLOWS.find((w) => w.name === name);
}

/**
 * The binding of a workflow, typed loosely: callers validate params against the
 * definition's schema before they reach it.
 */
export function bindingOf(env: Env, definition: WorkflowDefinition): Workflow {
  return env[definition.binding] as unknown as Workflow;
}

export function bindingFor(env: Env, name: string): Workflow {
  const definition = findWorkflow(name);
  if (!definition) throw new Error(`unknown workflow ${name}`);
  return bindingOf(env, definition);
}
