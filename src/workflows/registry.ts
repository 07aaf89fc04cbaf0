import type { WorkflowDeclaration } from "./declaration";
import * as classes from "./index";

/** A workflow of this Worker: its declaration, and the name its class is exported under. */
export interface RegisteredWorkflow extends WorkflowDeclaration {
  /** The `class_name` of its entry in wrangler.jsonc: the name ./index.ts exports it under. */
  class_name: string;
}

/**
 * The workflows this Worker runs, in the order ./index.ts exports them: what the HTTP API,
 * RPC and the dashboard list. Look one up by name with `findWorkflow` (./declaration.ts).
 */
export const WORKFLOWS: readonly RegisteredWorkflow[] = Object.entries(classes).map(([className, workflow]) => ({
  ...workflow.declaration,
  class_name: className,
}));
