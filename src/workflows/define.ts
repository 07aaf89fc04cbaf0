import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import type { z } from "zod";
import { splitOrigin } from "./hooks";
import { type ProgressReporter, progressReporter } from "./progress-report";
import { recordIfScheduled } from "./records";
import { validateParams } from "./validate-params";

/**
 * A workflow, declared once, in its own file:
 *
 *   export const myThing = defineWorkflow({ name: "my-thing", binding: "MY_THING", ... });
 *   export class MyThing extends WorkflowOf(myThing) {
 *     protected override async execute({ params, step, report }: RunOf<typeof myThing>) { ... }
 *   }
 *
 * then one export line in ./index.ts and its entry under `workflows` in wrangler.jsonc (the
 * same name, binding and class name), and `npm run types`. The HTTP API, RPC, the dashboard
 * and the tests find it in the registry (./registry.ts), which ./index.ts is the list of.
 */
export interface WorkflowDefinition<P extends z.ZodType = z.ZodType> {
  /** The `name` of its entry under `workflows` in wrangler.jsonc: the URL segment of the API. */
  name: string;
  /** The `binding` of that entry. */
  binding: keyof Env & string;
  description: string;
  /** The params schema: checked by every front before a create, and by the run itself. */
  params: P;
  /** Params that run to completion with no event sent (the API's tests create one of each workflow with them). */
  example: z.input<P>;
  /** The event types the workflow waits for, with their payload schemas (checked before an event is sent). */
  events: Record<string, z.ZodType>;
  /** The name of the run's first step, which validates the params. */
  validateStep: string;
  /**
   * Whether the run's milestones go to its origin too (a part that started it: ./hooks.ts),
   * besides the instance index.
   */
  reportToOrigin: boolean;
}

type Declared<P extends z.ZodType> = Omit<WorkflowDefinition<P>, "events" | "validateStep" | "reportToOrigin"> &
  Partial<Pick<WorkflowDefinition<P>, "events" | "validateStep" | "reportToOrigin">>;

/** Every workflow defined so far, by name: filled as the workflow modules load. */
const defined = new Map<string, WorkflowDefinition>();

export function defineWorkflow<P extends z.ZodType>(declared: Declared<P>): WorkflowDefinition<P> {
  const definition: WorkflowDefinition<P> = {
    events: {},
    validateStep: "validate params",
    reportToOrigin: true,
    ...declared,
  };
  if (defined.has(definition.name)) throw new Error(`two workflows are named ${definition.name}`);
  defined.set(definition.name, definition);
  return definition;
}

/**
 * A workflow defined by the Worker, by name, for code that runs inside a workflow (a child
 * naming its parent). The rest of the Worker reads the registry (./registry.ts) instead; a
 * workflow cannot import it, since the registry imports every workflow.
 */
export function definedWorkflow(name: string): WorkflowDefinition | undefined {
  return defined.get(name);
}

export const definedNames = (): string[] => [...defined.keys()];

/** The binding of workflow `name`, typed loosely: callers validate what they send. */
export function bindingNamed(env: Env, name: string): Workflow {
  const definition = defined.get(name);
  if (!definition) throw new Error(`unknown workflow ${name}`);
  return env[definition.binding] as unknown as Workflow;
}

/** What a workflow's `execute` is handed: its validated params, and the run's means. */
export interface RunContext<Params> {
  params: Params;
  event: Readonly<WorkflowEvent<unknown>>;
  step: WorkflowStep;
  /** Milestones, to the instance index (and the run's origin): ./progress-report.ts. */
  report: ProgressReporter;
}

/** The RunContext of a definition: `execute(run: RunOf<typeof myThing>)`. */
export type RunOf<D> = D extends WorkflowDefinition<infer P> ? RunContext<z.output<P>> : never;

/**
 * The base class of a defined workflow. Its `run` does what every workflow here must, in
 * this order, then hands the rest to `execute`:
 * 1. splits off the keys an optional part added to the params (./hooks.ts), outside any
 *    step: pure, so a replay splits the same way;
 * 2. validates the params in the first step (`validateStep`): invalid input can never
 *    succeed on retry, so it throws NonRetryableError, which fails the instance at once; a
 *    run that `schedules` on the binding started records itself there (no creating path did);
 * 3. makes the progress reporter, under the workflow's own name.
 * Rules of Workflows `execute` must follow: it may be replayed from the top, completed steps
 * returning their stored results, so every side effect sits inside a `step.do`, and code
 * between steps is deterministic.
 */
export function WorkflowOf<P extends z.ZodType>(definition: WorkflowDefinition<P>) {
  abstract class DefinedWorkflow extends WorkflowEntrypoint<Env, z.input<P>> {
    static readonly definition: WorkflowDefinition = definition;

    override async run(event: Readonly<WorkflowEvent<z.input<P>>>, step: WorkflowStep): Promise<unknown> {
      const { params, origin } = splitOrigin(event.payload);
      const valid = (await step.do(definition.validateStep, async () => {
        const parsed = validateParams(definition.params, params);
        await recordIfScheduled(this.env, definition.name, event);
        return parsed as Rpc.Serializable<unknown>;
      })) as z.output<P>;
      const report = progressReporter(
        this.env,
        step,
        definition.name,
        event.instanceId,
        definition.reportToOrigin ? origin : undefined,
      );
      return this.execute({ params: valid, event, step, report });
    }

    protected abstract execute(run: RunContext<z.output<P>>): Promise<unknown>;
  }
  return DefinedWorkflow;
}
