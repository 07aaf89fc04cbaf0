import type { JsonValue } from "../shared/rpc-result";

/**
 * How an optional part hears from the runs it started, without any workflow knowing of it.
 * A part whose way of starting a run adds keys of its own to the params (the agents SDK's
 * `runWorkflow` does) registers an origin splitter at src/index.ts. `parseParams` takes those
 * keys off before it validates, and `progressReporter` sends the run's milestones to the
 * origin too.
 *
 * With no splitter registered (the part removed), such keys stay in the params and a strict
 * params schema refuses them. A caller cannot smuggle them in: every front validates params
 * strictly before it creates anything.
 */

/** What a run tells its origin: the milestones of its progress reporter (./progress-report.ts). */
export type OriginReport =
  | { type: "progress"; progress: { step: string; percent: number; message?: string } }
  | { type: "complete"; result: JsonValue }
  | { type: "error"; error: string };

/** Whoever started a run and wants its milestones. */
export interface RunOrigin {
  /**
   * Delivers one report, from inside the report's `step.do`. Best effort: an unreachable
   * origin must not fail the run, so it returns its failure and never throws.
   */
  deliver(env: Env, instanceId: string, report: OriginReport): Promise<{ delivered: boolean; reason?: string }>;
}

/** Recognises a part's keys in a run's params: the params without them, and the origin; else undefined. */
export type OriginSplitter = (
  payload: Readonly<Record<string, unknown>>,
) => { params: Record<string, unknown>; origin: RunOrigin } | undefined;

const splitters: OriginSplitter[] = [];

/** Registers a part's splitter (at src/index.ts, when the Worker's modules load). */
export function addOriginSplitter(splitter: OriginSplitter): void {
  if (!splitters.includes(splitter)) splitters.push(splitter);
}

/**
 * The params of a run and its origin, if a registered splitter recognises them. Pure (the
 * splitters are registered before any run), so a replay splits the same payload the same way.
 */
export function splitOrigin(payload: unknown): { params: unknown; origin?: RunOrigin } {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return { params: payload };
  for (const split of splitters) {
    const found = split(payload as Record<string, unknown>);
    if (found) return found;
  }
  return { params: payload };
}
