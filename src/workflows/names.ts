/**
 * The workflows this Worker defines, by the `name` of their binding in wrangler.jsonc.
 * registry.ts describes each one; a schema that names a workflow (an order's `parent`)
 * takes the names from here, because the registry imports the schemas.
 */
export const WORKFLOW_NAMES = ["my-workflow", "parent-workflow", "restock-workflow"] as const;
export type RegisteredWorkflowName = (typeof WORKFLOW_NAMES)[number];
