/**
 * An instance's run as the platform records it: its events (`instance.subscribe()`), and the
 * shapes the Cloudflare REST API gives them (`GET .../instances/{id}`: its times, error,
 * rollback and `steps`; `GET .../step`: one step's output). Pure functions of the events,
 * but for `readHistory`, which reads them.
 */

/** Every event type a subscription can deliver (the platform's WorkflowInstanceEvent). */
export const EVENT_TYPES = [
  "workflow_queued",
  "workflow_started",
  "workflow_running",
  "workflow_paused",
  "workflow_waiting_for_pause",
  "workflow_waiting",
  "workflow_completed",
  "workflow_errored",
  "workflow_terminated",
  "step_started",
  "step_completed",
  "step_errored",
  "attempt_started",
  "attempt_completed",
  "attempt_errored",
  "sleep_started",
  "sleep_completed",
  "wait_started",
  "wait_completed",
  "wait_timed_out",
  "rollback_started",
  "rollback_step_started",
  "rollback_step_completed",
  "rollback_step_errored",
  "rollback_attempt_started",
  "rollback_attempt_completed",
  "rollback_attempt_errored",
  "rollback_completed",
  "rollback_errored",
] as const satisfies readonly WorkflowInstanceEventType[];

type Event = WorkflowInstanceEvent;
type ErrorInfo = { name: string; message: string };

/** A `step.do` (or its rollback handler), as REST lists it. */
export interface DoStep {
  type: "step" | "rollback";
  /** The step's name with its occurrence, as the platform records it: `charge payment-1`. */
  name: string;
  start: string;
  end: string | null;
  success: boolean | null;
  /** The step's output as JSON, cut at OUTPUT_PREVIEW_CHARS (`GET .../step` gives it whole). */
  output: string | null;
  config: StepConfig;
  attempts: Attempt[];
}

export interface StepConfig {
  retries: { limit: number; delay: string | number; backoff?: "constant" | "linear" | "exponential" };
  timeout: string | number;
  sensitive?: "output";
}

export interface Attempt {
  start: string;
  end: string | null;
  success: boolean | null;
  error: ErrorInfo | null;
  /** After a failed attempt: how long the engine waits before the next one. */
  retry_delay_ms?: number;
}

export interface SleepStep {
  type: "sleep";
  name: string;
  start: string;
  /** When it ended, or, while it sleeps, when it wakes. */
  end: string;
  finished: boolean;
  error: null;
}

export interface WaitStep {
  type: "waitForEvent";
  name: string;
  start: string;
  /** When the event came or the wait timed out; null while it waits (its timeout is not recorded). */
  end: string | null;
  finished: boolean;
  /** A timeout, as the platform's `wait_timed_out` tells it. */
  error: ErrorInfo | null;
  event_type: string;
}

export interface TerminationStep {
  type: "termination";
  trigger: { source: string };
}

export type RunStep = DoStep | SleepStep | WaitStep | TerminationStep;

/** What the history says of the run as a whole (REST's instance fields). */
export interface RunSummary {
  params: unknown;
  queued: string | null;
  start: string | null;
  end: string | null;
  error: ErrorInfo | null;
  rollback: { outcome: "complete" | "failed"; error: ErrorInfo | null } | null;
  schedule?: { cron: string; scheduledTime: number };
}

/** Step outputs in an instance's `steps` are cut here; `GET .../step` returns them whole. */
export const OUTPUT_PREVIEW_CHARS = 1024;

const iso = (ms: number) => new Date(ms).toISOString();

/** The JSON of a step's output, cut at OUTPUT_PREVIEW_CHARS; null for none. */
function preview(output: unknown): string | null {
  if (output === undefined) return null;
  let json: string;
  try {
    json = JSON.stringify(output);
  } catch {
    json = String(output);
  }
  return json.length > OUTPUT_PREVIEW_CHARS ? `${json.slice(0, OUTPUT_PREVIEW_CHARS - 1)}\u2026` : json;
}

const DEFAULT_CONFIG: StepConfig = { retries: { limit: 0, delay: 0 }, timeout: 0 };

/**
 * The steps of a history, in the order they started: each `step.do` with its attempts, each
 * sleep, each wait, each rollback handler, and a termination. A step the history names twice
 * (a restart from a step keeps the earlier events before it) is the latest occurrence.
 */
export function stepsOf(events: readonly Event[]): RunStep[] {
  const steps: RunStep[] = [];
  const open = new Map<string, DoStep | SleepStep | WaitStep>();
  const key = (kind: string, name: string) => `${kind}:${name}`;
  const doStep = (kind: "step" | "rollback", name: string) => open.get(key(kind, name)) as DoStep | undefined;
  for (const e of events) {
    const at = iso(e.timestamp);
    switch (e.type) {
      case "step_started":
      case "rollback_step_started": {
        const kind = e.type === "step_started" ? "step" : "rollback";
        const step: DoStep = {
          type: kind,
          name: e.stepName,
          start: at,
          end: null,
          success: null,
          output: null,
          config: e.config ?? DEFAULT_CONFIG,
          attempts: [],
        };
        open.set(key(kind, e.stepName), step);
        steps.push(step);
        break;
      }
      case "attempt_started":
      case "rollback_attempt_started":
        doStep(e.type === "attempt_started" ? "step" : "rollback", e.stepName)?.attempts.push({
          start: at,
          end: null,
          success: null,
          error: null,
        });
        break;
      case "attempt_completed":
      case "attempt_errored":
      case "rollback_attempt_completed":
      case "rollback_attempt_errored": {
        const step = doStep(e.type.startsWith("rollback") ? "rollback" : "step", e.stepName);
        const attempt = step?.attempts[e.attempt - 1] ?? step?.attempts.at(-1);
        if (!attempt) break;
        attempt.end = at;
        attempt.success = e.type.endsWith("completed");
        if (e.type === "attempt_errored" || e.type === "rollback_attempt_errored") {
          attempt.error = e.error;
          if (e.retryDelayMs !== undefined) attempt.retry_delay_ms = e.retryDelayMs;
        }
        break;
      }
      case "step_completed":
      case "step_errored":
      case "rollback_step_completed":
      case "rollback_step_errored": {
        const step = doStep(e.type.startsWith("rollback") ? "rollback" : "step", e.stepName);
        if (!step) break;
        step.end = at;
        step.success = e.type.endsWith("completed");
        if (e.type === "step_completed") step.output = preview(e.output);
        break;
      }
      case "sleep_started": {
        const step: SleepStep = {
          type: "sleep",
          name: e.stepName,
          start: at,
          end: iso(e.timestamp + e.durationMs),
          finished: false,
          error: null,
        };
        open.set(key("sleep", e.stepName), step);
        steps.push(step);
        break;
      }
      case "sleep_completed": {
        const step = open.get(key("sleep", e.stepName)) as SleepStep | undefined;
        if (step) Object.assign(step, { end: at, finished: true });
        break;
      }
      case "wait_started": {
        const step: WaitStep = {
          type: "waitForEvent",
          name: e.stepName,
          start: at,
          end: null,
          finished: false,
          error: null,
          event_type: e.eventType,
        };
        open.set(key("wait", e.stepName), step);
        steps.push(step);
        break;
      }
      case "wait_completed":
      case "wait_timed_out": {
        const step = open.get(key("wait", e.stepName)) as WaitStep | undefined;
        if (!step) break;
        Object.assign(step, { end: at, finished: true });
        if (e.type === "wait_timed_out") step.error = { name: "WorkflowTimeoutError", message: "the wait timed out" };
        break;
      }
      case "workflow_terminated":
        // The history does not say who terminated it.
        steps.push({ type: "termination", trigger: { source: "unknown" } });
        break;
    }
  }
  return steps;
}

/** The run's times, params, error and rollback, from its history (REST's instance fields). */
export function summaryOf(events: readonly Event[]): RunSummary {
  const first = <T extends Event["type"]>(type: T) =>
    events.find((e): e is Extract<Event, { type: T }> => e.type === type);
  const last = <T extends Event["type"]>(type: T) =>
    events.findLast((e): e is Extract<Event, { type: T }> => e.type === type);
  const queued = first("workflow_queued");
  const started = first("workflow_started");
  const ended = events.findLast(
    (e) => e.type === "workflow_completed" || e.type === "workflow_errored" || e.type === "workflow_terminated",
  );
  const errored = ended?.type === "workflow_errored" ? ended : undefined;
  const rollbackStart = last("rollback_started");
  let rollback: RunSummary["rollback"] = null;
  if (rollbackStart) {
    const after = events.filter((e) => e.eventId > rollbackStart.eventId);
    const failedStep = after.findLast((e) => e.type === "rollback_step_errored");
    if (after.some((e) => e.type === "rollback_completed")) rollback = { outcome: "complete", error: null };
    else if (after.some((e) => e.type === "rollback_errored")) {
      rollback = { outcome: "failed", error: failedStep?.type === "rollback_step_errored" ? failedStep.error : null };
    }
  }
  return {
    params: started?.type === "workflow_started" ? (started.params ?? null) : null,
    queued: queued ? iso(queued.timestamp) : null,
    start: started ? iso(started.timestamp) : null,
    end: ended ? iso(ended.timestamp) : null,
    error: errored?.type === "workflow_errored" ? errored.error : null,
    rollback,
  };
}

/** A step's full output or error, as `GET .../instances/{id}/step` answers. */
export interface StepOutput {
  status: "running" | "waiting" | "complete" | "errored";
  error: ErrorInfo | null;
  output: unknown;
  event_type?: string;
}

/**
 * Step `name` (with its occurrence: `charge payment-1`) of type `type`, and with `attempt` that
 * attempt's outcome: its output if it is the one that completed, its error if it failed. Undefined
 * if the history has no such step (or attempt). A wait's payload is not in the history the
 * platform streams, so a completed wait's output is null.
 */
export function stepOutputOf(
  events: readonly Event[],
  { name, type, attempt }: { name: string; type: "step" | "waitForEvent"; attempt?: number },
): StepOutput | undefined {
  const mine = events.filter((e) => "stepName" in e && e.stepName === name && !e.type.startsWith("rollback"));
  if (type === "waitForEvent") {
    const started = mine.findLast((e) => e.type === "wait_started");
    if (started?.type !== "wait_started" || attempt !== undefined) return undefined;
    const ended = mine.findLast(
      (e) => e.eventId > started.eventId && (e.type === "wait_completed" || e.type === "wait_timed_out"),
    );
    return {
      status: !ended ? "waiting" : ended.type === "wait_completed" ? "complete" : "errored",
      error: ended?.type === "wait_timed_out" ? { name: "WorkflowTimeoutError", message: "the wait timed out" } : null,
      output: null,
      event_type: started.eventType,
    };
  }
  const started = mine.findLast((e) => e.type === "step_started");
  if (!started) return undefined;
  const run = mine.filter((e) => e.eventId >= started.eventId);
  const completed = run.find((e) => e.type === "step_completed");
  const attempts = run.filter((e) => e.type === "attempt_started");
  if (attempt !== undefined) {
    if (attempt < 1 || attempt > attempts.length) return undefined;
    const outcome = run.find(
      (e) => (e.type === "attempt_completed" || e.type === "attempt_errored") && e.attempt === attempt,
    );
    if (!outcome) return { status: "running", error: null, output: null };
    if (outcome.type === "attempt_errored") return { status: "errored", error: outcome.error, output: null };
    return {
      status: "complete",
      error: null,
      output: completed?.type === "step_completed" ? (completed.output ?? null) : null,
    };
  }
  if (completed?.type === "step_completed")
    return { status: "complete", error: null, output: completed.output ?? null };
  const lastFailure = run.findLast((e) => e.type === "attempt_errored");
  const error = lastFailure?.type === "attempt_errored" ? lastFailure.error : null;
  if (run.some((e) => e.type === "step_errored")) return { status: "errored", error, output: null };
  // Running, or between attempts: a non-null error says a failed attempt is being retried.
  return { status: "running", error, output: null };
}

/** Bounds on one read of a history. */
export const HISTORY_LIMITS = {
  /** Events read at most: a 10,000-step run has about 40,000; what follows is left out (`truncated`). */
  maxEvents: 50_000,
  /**
   * A live instance's subscription never ends by itself: its history is taken as read once no
   * event has come for this long, or 20 times the slowest gap between events seen so far (a
   * loaded machine answers slower), whichever is longer, at most `idleMaxMs`.
   */
  idleMinMs: 50,
  idleMaxMs: 1000,
  /** An ended instance's events come without waiting; this only bounds a read of one restarted meanwhile. */
  endedIdleMs: 5000,
} as const;

/**
 * Reads an instance's history. An ended instance's subscription ends after its last event; a
 * live one's is read until it has been idle (see HISTORY_LIMITS), so its history is what had
 * happened by then.
 */
export async function readHistory(
  instance: WorkflowInstance,
  options: { ended: boolean; filter?: WorkflowInstanceEventType[] },
): Promise<{ events: Event[]; truncated: boolean }> {
  try {
    return await readHistoryOnce(instance, options);
  } catch {
    // The engine aborts itself (a run failing with a NonRetryableError, a terminate), and a
    // subscription it was serving with it: read again once it is back.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return readHistoryOnce(instance, options);
  }
}

async function readHistoryOnce(
  instance: WorkflowInstance,
  { ended, filter }: { ended: boolean; filter?: WorkflowInstanceEventType[] },
): Promise<{ events: Event[]; truncated: boolean }> {
  using subscription = await instance.subscribe(filter ? { filter } : undefined);
  const events: Event[] = [];
  let slowest = 0;
  let previous = Date.now();
  while (events.length < HISTORY_LIMITS.maxEvents) {
    // An ended instance's subscription ends by itself; the bound is for one restarted meanwhile.
    const idle = ended
      ? HISTORY_LIMITS.endedIdleMs
      : Math.min(HISTORY_LIMITS.idleMaxMs, Math.max(HISTORY_LIMITS.idleMinMs, slowest * 20));
    let result: IteratorResult<Event, void> | "idle";
    try {
      result = await nextOrIdle(subscription, idle);
    } catch (error) {
      // Broken mid-read by the engine's abort: the history is what was read.
      if (events.length === 0) throw error;
      return { events, truncated: false };
    }
    if (result === "idle" || result.done) return { events, truncated: false };
    const now = Date.now();
    slowest = Math.max(slowest, now - previous);
    previous = now;
    events.push(result.value);
  }
  return { events, truncated: true };
}

/**
 * The subscription's next event, or "idle" if none comes within `ms`. A pending `next` left
 * behind resolves as done once the subscription is disposed.
 */
export async function nextOrIdle(
  subscription: WorkflowInstanceSubscription,
  ms: number,
): Promise<IteratorResult<Event, void> | "idle"> {
  const next = subscription.next();
  next.catch(() => {});
  let timer = 0;
  const idle = new Promise<"idle">((resolve) => {
    timer = setTimeout(() => resolve("idle"), ms) as unknown as number;
  });
  try {
    return await Promise.race([next, idle]);
  } finally {
    clearTimeout(timer);
  }
}
