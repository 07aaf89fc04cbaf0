import { z } from "zod";
import { EventType } from "./platform-limits";

/**
 * What the HTTP API, RPC, the dashboard and the tests know of a workflow: one object beside
 * its class, linked from it (`static readonly declaration = myWorkflow`). The class is the
 * platform's own `WorkflowEntrypoint` with its `run`; this only describes it.
 */
export interface WorkflowDeclaration<P extends z.ZodType = z.ZodType> {
  /** The `name` of its entry under `workflows` in wrangler.jsonc: the URL segment of the API. */
  name: string;
  /** The `binding` of that entry. */
  binding: keyof Env & string;
  description: string;
  /** The params schema: every front checks it before a create, and the run checks it again (./params.ts). */
  params: P;
  /** Params that run to completion with no event sent (the tests create one of each workflow with them). */
  example: z.input<P>;
  /** The event types the workflow waits for, each with its payload schema (checked before an event is sent). */
  events: Record<string, z.ZodObject>;
}

const declared = new Map<string, WorkflowDeclaration>();

/**
 * Declares a workflow: checks the rules below, and makes it known by name to the code that
 * runs inside workflows (a child naming its parent). Throws at module load, naming the rule:
 * - names are unique;
 * - event types are ones the platform accepts;
 * - an event's payload schema is a zod object (`z.object`, `z.strictObject` or
 *   `z.looseObject`): a payload is a JSON object, and the fronts refuse one the schema refuses.
 */
export function declareWorkflow<P extends z.ZodType>(
  declaration: Omit<WorkflowDeclaration<P>, "events"> & { events?: Record<string, z.ZodObject> },
): WorkflowDeclaration<P> {
  const full: WorkflowDeclaration<P> = { ...declaration, events: declaration.events ?? {} };
  const problem = declarationProblem(full);
  if (problem) throw new Error(`workflow ${full.name}: ${problem}`);
  declared.set(full.name, full);
  return full;
}

/** What breaks a rule of declareWorkflow in `declaration`, or undefined. */
export function declarationProblem(declaration: WorkflowDeclaration): string | undefined {
  if (declared.has(declaration.name)) return "two workflows have this name";
  for (const [type, schema] of Object.entries(declaration.events)) {
    if (!EventType.safeParse(type).success) return `event type "${type}" must be letters, digits, '-' and '_'`;
    if (!(schema instanceof z.ZodObject)) {
      return `the payload schema of event "${type}" must be a zod object (z.object, z.strictObject or z.looseObject)`;
    }
  }
  return undefined;
}

/** The declared workflow named `name`, or undefined. */
export function findWorkflow(name: string): WorkflowDeclaration | undefined {
  return declared.get(name);
}

/** Every declared workflow, in the order their modules loaded. */
export const declaredWorkflows = (): WorkflowDeclaration[] => [...declared.values()];

/** A workflow's binding, typed loosely: callers validate what they send against the declaration first. */
export function bindingOf(env: Env, workflow: WorkflowDeclaration): Workflow {
  return env[workflow.binding] as unknown as Workflow;
}
