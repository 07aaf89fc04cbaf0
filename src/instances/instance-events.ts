import { z } from "zod";
import { notFound } from "../shared/errors";
import { mapPlatformError } from "../workflows/platform-errors";
import { InstanceId } from "../workflows/platform-limits";
import { instanceHandle, requireWorkflow } from "./instances";
import { EVENT_TYPES, readHistory, type StepOutput, stepOutputOf } from "./run-history";
import { isEnded } from "./statuses";
import { parse } from "./validation";

/**
 * An instance's events as the platform streams them (`instance.subscribe()`): one step's full
 * output (`GET .../instances/:id/step`) and the stream itself (`GET .../instances/:id/subscribe`),
 * as Server-Sent Events.
 */

/** `GET .../step`'s query, as REST takes it: the step's recorded name (`charge payment-1`). */
export const StepQuery = z
  .object({
    name: z.string().min(1).max(300),
    type: z.enum(["step", "waitForEvent"]).default("step"),
    attempt: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

/** The events a step's output is read from: its own, without the rest of the run's. */
const STEP_EVENTS: WorkflowInstanceEventType[] = EVENT_TYPES.filter((t) => /^(step|attempt|wait)_/.test(t));

/** A step's full output or error (REST's `GET .../instances/:id/step`); 404 for a step the run never made. */
export async function getStep(env: Env, workflow: unknown, id: unknown, query: unknown): Promise<StepOutput> {
  const definition = requireWorkflow(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const step = parse(StepQuery, query ?? {}, "");
  const instance = await instanceHandle(env, definition, instanceId);
  let found: StepOutput | undefined;
  try {
    const { status } = await instance.status();
    const { events } = await readHistory(instance, { ended: isEnded(status), filter: STEP_EVENTS });
    found = stepOutputOf(events, step);
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
  const which = step.attempt === undefined ? "" : ` attempt ${step.attempt}`;
  if (!found) throw notFound(`${step.type} "${step.name}"${which} of instance ${instanceId} of ${definition.name}`);
  return found;
}

/** `GET .../subscribe`'s query: `cursor` (the last event id the client has) and `filter` (event types). */
export const SubscribeQuery = z
  .object({
    cursor: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    filter: z
      .string()
      .max(1000)
      .transform((list, ctx) => {
        const types = list.split(",").map((t) => t.trim());
        const unknown = types.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
        if (unknown !== undefined) {
          ctx.addIssue({
            code: "custom",
            message: `"${unknown.slice(0, 40)}" is not an event type; comma-separated, of: ${EVENT_TYPES.join(", ")}`,
          });
          return z.NEVER;
        }
        return types as WorkflowInstanceEventType[];
      })
      .optional(),
  })
  .strict();
export type SubscribeOptions = z.input<typeof SubscribeQuery>;

/** Bounds on one event stream. */
export const STREAM_LIMITS: { maxDurationMs: number; keepAliveMs: number; retryMs: number } = {
  /** A stream ends after this long; an EventSource reconnects at once, resuming with Last-Event-ID. */
  maxDurationMs: 5 * 60_000,
  /** A comment line this often while no event comes, so proxies keep the connection. */
  keepAliveMs: 15_000,
  /** How long a client waits before it reconnects (the stream's `retry:`). */
  retryMs: 1000,
};

/** An instance's event stream; `body` is null when there is nothing to send. */
export interface EventStream {
  /** Server-Sent Events: `id:` the event id, `event:` its type, `data:` the event as JSON. */
  body: ReadableStream<Uint8Array> | null;
}

/**
 * The instance's events as Server-Sent Events, history first, then live, from after `cursor`
 * (or a client's `Last-Event-ID`), of the `filter`ed types. Each event is
 * `id: <eventId>\nevent: <type>\ndata: <event JSON>`. The stream ends with `event: end` after
 * the instance's last event; or, after STREAM_LIMITS.maxDurationMs, without it (an EventSource
 * then reconnects from its last id). An ended instance with nothing after the cursor gets no
 * body at all (the front answers 204, which tells an EventSource to stop reconnecting).
 *
 * Pull-based: the subscription is read only as fast as the client reads, so a client that stops
 * reading holds one event, not a growing queue; when it goes away, the subscription is disposed.
 */
export async function openEventStream(
  env: Env,
  workflow: unknown,
  id: unknown,
  query: unknown,
  lastEventId?: string | null,
  limits: typeof STREAM_LIMITS = STREAM_LIMITS,
): Promise<EventStream> {
  const definition = requireWorkflow(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const options = parse(SubscribeQuery, query ?? {}, "");
  if (lastEventId !== undefined && lastEventId !== null && lastEventId !== "") {
    options.cursor = parse(SubscribeQuery.shape.cursor, lastEventId, "Last-Event-ID");
  }
  const instance = await instanceHandle(env, definition, instanceId);
  let subscription: WorkflowInstanceSubscription | undefined;
  let first: Promise<IteratorResult<WorkflowInstanceEvent, void>>;
  let answered: IteratorResult<WorkflowInstanceEvent, void> | "waiting";
  try {
    subscription = await instance.subscribe({
      ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
      ...(options.filter ? { filter: options.filter } : {}),
    });
    // An ended instance answers at once; a live one may wait for its next event, which the
    // stream then waits for too.
    first = subscription.next();
    answered = await raceTimer(first, FIRST_EVENT_WAIT_MS, "waiting");
  } catch (error) {
    // A subscription is a handle on the engine's side: released here, not left to the collector.
    subscription?.[Symbol.dispose]();
    throw mapPlatformError(error, definition.name, instanceId);
  }
  if (answered !== "waiting" && answered.done) {
    subscription[Symbol.dispose]();
    return { body: null };
  }
  return { body: sseBody(subscription, first, limits) };
}

/** How long the first event is waited for before the response starts (an ended instance's comes at once). */
const FIRST_EVENT_WAIT_MS = 250;

/** `promise`, or `fallback` if it has not settled within `ms`. */
async function raceTimer<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer = 0;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms) as unknown as number;
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const encoder = new TextEncoder();
const frame = (event: WorkflowInstanceEvent) =>
  encoder.encode(`id: ${event.eventId}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);

function sseBody(
  subscription: WorkflowInstanceSubscription,
  first: Promise<IteratorResult<WorkflowInstanceEvent, void>>,
  limits: typeof STREAM_LIMITS,
): ReadableStream<Uint8Array> {
  const deadline = Date.now() + limits.maxDurationMs;
  // The `next()` the stream is waiting on: kept across keep-alives, so no event is skipped.
  let pending: Promise<IteratorResult<WorkflowInstanceEvent, void>> | undefined = first;
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, text?: string) => {
    if (text) controller.enqueue(encoder.encode(text));
    controller.close();
    subscription[Symbol.dispose]();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(`retry: ${limits.retryMs}\n\n`));
      },
      async pull(controller) {
        const left = deadline - Date.now();
        if (left <= 0) return finish(controller, ": reconnect to go on\n\n");
        pending ??= subscription.next();
        let result: IteratorResult<WorkflowInstanceEvent, void> | "wait";
        try {
          result = await raceTimer(pending, Math.min(limits.keepAliveMs, left), "wait" as const);
        } catch {
          // The subscription broke: the engine aborts itself (a step threw a NonRetryableError,
          // the run was terminated) and its subscribers with it. End as a stream, not with an
          // error: the client reconnects from its last id and gets the rest.
          return finish(controller, ": reconnect to go on\n\n");
        }
        if (result === "wait") {
          controller.enqueue(encoder.encode(": keep-alive\n\n"));
          return;
        }
        pending = undefined;
        if (result.done) return finish(controller, "event: end\ndata: {}\n\n");
        controller.enqueue(frame(result.value));
      },
      cancel() {
        subscription[Symbol.dispose]();
      },
    },
    { highWaterMark: 1 },
  );
}
