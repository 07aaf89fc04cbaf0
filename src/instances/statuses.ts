/** Every status an instance can report (the platform's InstanceStatus). */
export const INSTANCE_STATUSES = [
  "queued",
  "running",
  "paused",
  "errored",
  "terminated",
  "complete",
  "waiting",
  "waitingForPause",
  "rollingBack",
  "unknown",
] as const satisfies readonly InstanceStatus["status"][];

export type InstanceStatusName = (typeof INSTANCE_STATUSES)[number];

/** The statuses an instance stays in unless restarted: it has ended. */
export const ENDED_STATUSES = ["complete", "errored", "terminated"] as const satisfies readonly InstanceStatusName[];

export const isEnded = (status: string): boolean => (ENDED_STATUSES as readonly string[]).includes(status);
