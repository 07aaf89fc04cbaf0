import { z } from "zod";
import { requireWorkflow } from "../instances/instances";
import { INSTANCE_STATUSES } from "../instances/statuses";
import { assertPayloadSize, parse } from "../instances/validation";
import { invalid } from "../shared/errors";
import type { JsonValue } from "../shared/rpc-result";
import type { WorkflowDeclaration } from "../workflows/declaration";
import { NewInstanceId } from "../workflows/platform-limits";

/**
 * Inputs of the WorkflowScheduler Agent. The HTTP edge (src/api/agents.ts) parses
 * them before waking a Durable Object, and the Agent parses them again because its
 * methods are reachable over RPC; both use these functions, so each rule lives here
 * once. Workflow names and params go through the instance core, exactly as for
 * `POST /api/workflows/:name/instances`.
 */

const DAY_SECONDS = 24 * 3600;

export const SCHEDULER_LIMITS = {
  /** Longest delay, and furthest date, a one-shot schedule may name. */
  aheadSeconds: 365 * DAY_SECONDS,
  /** Workflow schedules one Agent may hold at once. */
  schedules: 100,
  /**
   * Of those, cron schedules: each fires again and again, so they multiply creates (every
   * firing also spends the create budget of whoever made it).
   */
  cronSchedules: 10,
  /** Tracked workflows per page when listing. */
  pageDefault: 20,
  pageMax: 100,
  /** Most recent runs kept in the Agent's state (what WebSocket clients see). */
  runsInState: 25,
} as const;

/** One Agent per name: a user, a tenant, a team. */
export const AgentName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, '-' or '_'");

/** Statuses a tracked workflow can have (the platform's InstanceStatus). */
export type WorkflowStatusName = (typeof INSTANCE_STATUSES)[number];

/** Statuses that may still change: the status refresh polls these. */
export const ACTIVE_STATUSES: WorkflowStatusName[] = [
  "queued",
  "running",
  "paused",
  "waiting",
  "waitingForPause",
  "rollingBack",
  "unknown",
];

const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

/**
 * Why a five-field cron expression is invalid, or undefined when it is valid.
 * Accepts `*`, numbers, ranges `a-b`, a step `/n` after `*` or a range, and
 * comma-separated lists of those.
 */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5)
    return `must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const { name, min, max } = CRON_FIELDS[i]!;
    for (const part of field.split(",")) {
      const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!match) return `${name} field "${field}" is not a number, range, step or *`;
      const [, , from, to, step] = match;
      const numbers = [from, to].filter((n) => n !== undefined).map(Number);
      if (numbers.some((n) => n < min || n > max)) return `${name} field "${field}" must stay within ${min}-${max}`;
      if (numbers.length === 2 && numbers[0]! > numbers[1]!)
        return `${name} field "${field}" has a range that runs backwards`;
      if (step !== undefined && (Number(step) < 1 || Number(step) > max))
        return `${name} field "${field}" has a step outside 1-${max}`;
    }
  }
  return undefined;
}

export const CronExpression = z
  .string()
  .max(100)
  .superRefine((value, ctx) => {
    const problem = cronProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform((value) => value.trim().split(/\s+/).join(" "));

const Target = {
  workflow: z.string(),
  params: z.unknown().optional(),
  instance_id: NewInstanceId.optional(),
};

export const ScheduleBody = z
  .strictObject({
    ...Target,
    delay_seconds: z
      .number()
      .int("must be a whole number of seconds")
      .min(1, "must be at least 1 second")
      .max(SCHEDULER_LIMITS.aheadSeconds, `must be at most ${SCHEDULER_LIMITS.aheadSeconds} seconds (365 days)`)
      .optional(),
    at: z.iso
      .datetime({ offset: true, message: "must be an ISO 8601 date-time, e.g. 2030-01-01T09:00:00Z" })
      .optional(),
    cron: CronExpression.optional(),
  })
  .superRefine((body, ctx) => {
    const given = (["delay_seconds", "at", "cron"] as const).filter((k) => body[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [given[1] ?? "delay_seconds"],
        message: "give exactly one of delay_seconds, at or cron",
      });
    }
    // Each cron firing creates its own instance, so a fixed id could be used only once.
    if (body.cron !== undefined && body.instance_id !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["instance_id"],
        message: "cannot be set with cron: each firing creates an instance with its own id",
      });
    }
  });

export const StartBody = z.strictObject(Target);

const Status = z.enum(INSTANCE_STATUSES);

export const ListQuery = z.strictObject({
  status: z
    .string()
    .transform((value) => value.split(",").map((s) => s.trim()))
    .pipe(z.array(Status).min(1))
    .optional(),
  workflow: z.string().optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1, "must be at least 1")
    .max(SCHEDULER_LIMITS.pageMax, `must be at most ${SCHEDULER_LIMITS.pageMax}`)
    .default(SCHEDULER_LIMITS.pageDefault),
  order: z.enum(["asc", "desc"]).default("desc"),
  cursor: z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_-]+$/, "is not a cursor returned by a previous page (next_cursor)")
    .refine(isCursor, "is not a cursor returned by a previous page (next_cursor)")
    .optional(),
});

/**
 * Page cursors. The agents SDK's cursor is base64 JSON (`{c: created_at, i: instance
 * id}`), whose `+`, `/` and `=` need escaping in a URL; we hand out its URL-safe form
 * (base64url), so a `next_cursor` can be pasted into a query string as it is.
 */
export const toPageCursor = (sdkCursor: string) => sdkCursor.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function fromPageCursor(cursor: string): string {
  const base64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
  return base64 + "=".repeat((4 - (base64.length % 4)) % 4);
}

function isCursor(value: string): boolean {
  try {
    const decoded: unknown = JSON.parse(atob(fromPageCursor(value)));
    return (
      typeof decoded === "object" &&
      decoded !== null &&
      typeof (decoded as { c?: unknown }).c === "number" &&
      typeof (decoded as { i?: unknown }).i === "string"
    );
  } catch {
    return false;
  }
}

/** What to start: a registered workflow, params its schema accepts, an optional id. */
export interface WorkflowTarget {
  /** The registry name, e.g. `my-workflow`. */
  workflow: string;
  params?: JsonValue;
  instance_id?: string;
}

export type ScheduleWhen = { delay_seconds: number } | { at: string } | { cron: string };
export type ScheduleRequest = { target: WorkflowTarget } & { when: ScheduleWhen };

export interface ListRequest {
  status?: WorkflowStatusName[];
  workflow?: string;
  limit: number;
  order: "asc" | "desc";
  cursor?: string;
}

/**
 * Validates a workflow target with the instance core: the workflow must be
 * registered (404 otherwise) and the params must satisfy its schema and size limit
 * (400 naming the field). Returns the definition so the caller finds its binding.
 */
export function validateTarget(target: { workflow: unknown; params?: unknown; instance_id?: unknown }): {
  definition: WorkflowDeclaration;
  target: WorkflowTarget;
} {
  const definition = requireWorkflow(target.workflow);
  assertPayloadSize(target.params, "params");
  parse(definition.params, target.params, "params");
  const instanceId =
    target.instance_id === undefined ? undefined : parse(NewInstanceId, target.instance_id, "instance_id");
  return {
    definition,
    target: {
      workflow: definition.name,
      // Valid params are JSON by the schema; the workflow parses them again itself.
      ...(target.params !== undefined ? { params: target.params as JsonValue } : {}),
      ...(instanceId !== undefined ? { instance_id: instanceId } : {}),
    },
  };
}

export function parseScheduleRequest(input: unknown, now = Date.now()): ScheduleRequest {
  const body = parse(ScheduleBody, input ?? {}, "");
  const { target } = validateTarget(body);
  if (body.cron !== undefined) return { target, when: { cron: body.cron } };
  if (body.at !== undefined) {
    const at = Date.parse(body.at);
    if (at <= now) throw invalid("at", `must be in the future (now is ${new Date(now).toISOString()})`);
    if (at > now + SCHEDULER_LIMITS.aheadSeconds * 1000) throw invalid("at", "must be at most 365 days ahead");
    return { target, when: { at: new Date(at).toISOString() } };
  }
  return { target, when: { delay_seconds: body.delay_seconds! } };
}

export function parseStartRequest(input: unknown): WorkflowTarget {
  return validateTarget(parse(StartBody, input ?? {}, "")).target;
}

export function parseListRequest(input: unknown): ListRequest {
  const query = parse(ListQuery, input ?? {}, "");
  if (query.workflow !== undefined) requireWorkflow(query.workflow);
  return {
    limit: query.limit,
    order: query.order,
    ...(query.status ? { status: query.status } : {}),
    ...(query.workflow !== undefined ? { workflow: query.workflow } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
  };
}

export function parseAgentName(name: unknown): string {
  return parse(AgentName, name, "agent");
}
