import { z } from "zod";
import { InstanceError, invalid } from "../shared/errors";
import { nestingDepth } from "../shared/nesting";
import { InstanceId, LIMITS, NewInstanceId } from "../workflows/platform-limits";

export const WorkflowName = z.string().min(1).max(LIMITS.workflowNameMax);

/** `"30 seconds"`, `"1 day"`, or a number of milliseconds, as the binding accepts. */
export const Duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+ (second|minute|hour|day|week|month|year)s?$/, 'must look like "30 days" or be milliseconds'),
]);

export const Retention = z
  .object({
    success_retention: Duration.optional(),
    error_retention: Duration.optional(),
  })
  .strict();

export const LOCATION_HINTS = [
  "wnam",
  "enam",
  "sam",
  "weur",
  "eeur",
  "apac",
  "apac-ne",
  "apac-se",
  "oc",
  "afr",
  "me",
] as const;

export const CreateBody = z
  .object({
    instance_id: NewInstanceId.optional(),
    params: z.unknown().optional(),
    instance_retention: Retention.optional(),
    /** Best-effort placement, as the REST API accepts it; ignored locally. */
    location_hint: z.enum(LOCATION_HINTS).optional(),
  })
  .strict();
export type CreateBody = z.infer<typeof CreateBody>;

export const BatchBody = z
  .array(CreateBody)
  .min(1, "must hold at least one instance")
  .max(LIMITS.batchMax, `must hold at most ${LIMITS.batchMax} instances`);

export const STATUS_ACTIONS = ["pause", "resume", "terminate", "restart"] as const;
export type StatusAction = (typeof STATUS_ACTIONS)[number];
/**
 * As the REST API: `terminate` may ask for registered rollback handlers to run, and
 * `restart` may restart from a step instead of the beginning.
 */
export const StatusBody = z
  .object({
    status: z.enum(STATUS_ACTIONS),
    rollback: z.boolean().optional(),
    from: z
      .object({
        name: z.string().min(1).max(256),
        count: z.number().int().min(1).optional(),
        type: z.enum(["do", "sleep", "waitForEvent"]).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => b.rollback === undefined || b.status === "terminate", {
    message: "is only accepted with status terminate",
    path: ["rollback"],
  })
  .refine((b) => b.from === undefined || b.status === "restart", {
    message: "is only accepted with status restart",
    path: ["from"],
  });

/** Bulk pause/resume/terminate over a list of ids, answered per id. */
export const BulkBody = z
  .object({
    action: z.enum(["pause", "resume", "terminate"]),
    instance_ids: z
      .array(InstanceId)
      .min(1, "must hold at least one id")
      .max(LIMITS.batchMax, `must hold at most ${LIMITS.batchMax} ids`)
      .refine((ids) => new Set(ids).size === ids.length, "must not repeat an id"),
  })
  .strict();

/** Parses `input` or throws an InstanceError naming the first field at fault. */
export function parse<T extends z.ZodType>(schema: T, input: unknown, root: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // An unexpected key is reported on its parent object; name the key itself.
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : issue.path;
  const field = [root, ...path.map(String)].filter(Boolean).join(".");
  throw invalid(field || "body", issue.code === "unrecognized_keys" ? "is not an accepted field" : issue.message);
}

/** Bytes of `value` as JSON (the platform limit applies to the serialized form), and its nesting. */
export function assertPayloadSize(value: unknown, field: string): void {
  if (value === undefined) return;
  if (nestingDepth(value, LIMITS.payloadDepth) > LIMITS.payloadDepth) {
    throw invalid(field, `must not nest objects and arrays more than ${LIMITS.payloadDepth} levels deep`);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw invalid(field, "must be JSON-serializable");
  }
  const bytes = new TextEncoder().encode(json).byteLength;
  if (bytes > LIMITS.payloadBytes) {
    throw new InstanceError(
      "too_large",
      `${field}: ${bytes} bytes exceeds the ${LIMITS.payloadBytes}-byte limit`,
      field,
    );
  }
}
