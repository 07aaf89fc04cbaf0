import { z } from "zod";
import { PAYLOAD_MAX_DEPTH } from "../shared/nesting";

/**
 * What the Workflows platform accepts: its limits, and the ids and event types it takes.
 * Workflows (a child naming its parent) and the instance core both check against these.
 */

/** Platform limits for Workflows (see the Cloudflare Workflows limits page). */
export const LIMITS = {
  instanceIdMax: 100,
  workflowNameMax: 64,
  eventTypeMax: 100,
  payloadBytes: 1024 * 1024,
  batchMax: 100,
  /** Nesting of objects and arrays in a payload (see ../shared/nesting.ts). */
  payloadDepth: PAYLOAD_MAX_DEPTH,
} as const;

export const INSTANCE_ID_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/;
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+$/;

export const InstanceId = z
  .string()
  .min(1, "must not be empty")
  .max(LIMITS.instanceIdMax, `must be at most ${LIMITS.instanceIdMax} characters`)
  .regex(INSTANCE_ID_PATTERN, "must match ^[a-zA-Z0-9_][a-zA-Z0-9-_]*$");

/**
 * Ids an instance cannot be created with. The Workflows engine refuses `batch`,
 * `terminate`, `terminateAll` and `cf_` followed by 64 hex digits (`(instance.invalid_id)`
 * from createBatch: the first three name paths of the REST API, the last is the form of
 * the platform's own ids), and `bulk` and `batch` name paths of this API
 * (`.../instances/bulk`, `.../instances/batch`), so an instance with either id could never
 * be read back. Matching is exact, as the engine's. Ids are only refused at creation:
 * reading, steering or signalling an existing instance accepts any valid id.
 */
export const RESERVED_INSTANCE_IDS: readonly string[] = ["batch", "bulk", "terminate", "terminateAll"];
const PLATFORM_ID = /^cf_[0-9a-f]{64}$/;
export const isReservedInstanceId = (id: string) => RESERVED_INSTANCE_IDS.includes(id) || PLATFORM_ID.test(id);

/** The id of an instance to create: a valid id that is not reserved. */
export const NewInstanceId = InstanceId.refine((id) => !isReservedInstanceId(id), {
  error: (issue) =>
    `"${String(issue.input)}" is reserved: ${RESERVED_INSTANCE_IDS.join(", ")} and cf_ followed by 64 hex digits cannot be instance ids`,
});

export const EventType = z
  .string()
  .min(1, "must not be empty")
  .max(LIMITS.eventTypeMax, `must be at most ${LIMITS.eventTypeMax} characters`)
  .regex(EVENT_TYPE_PATTERN, "must contain only letters, digits, '-' and '_'");
