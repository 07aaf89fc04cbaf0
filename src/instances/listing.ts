import { z } from "zod";
import { invalid } from "../shared/errors";
import type { Trigger } from "../workflows/instance-records";
import type { IndexRow } from "./instance-index";
import { INSTANCE_STATUSES } from "./statuses";
import { parse } from "./validation";

/** The REST API's list query: `status`, `page`, `per_page`, `cursor`, `direction`, dates. */
export const ListQuery = z
  .object({
    status: z.enum(INSTANCE_STATUSES).optional(),
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    per_page: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, "must be a cursor from a previous page")
      .optional(),
    direction: z.enum(["asc", "desc"]).default("desc"),
    date_start: z.iso.datetime({ offset: true }).optional(),
    date_end: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export const WorkflowListQuery = z
  .object({
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    per_page: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

/** Cursors are opaque to clients: a base64url position in the index. */
export const encodeCursor = (position: number) =>
  btoa(`p${position}`).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

export function decodeCursor(cursor: string): number {
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw invalid("cursor", "must be a cursor from a previous page");
  }
  const match = /^p(\d{1,15})$/.exec(text);
  if (!match) throw invalid("cursor", "must be a cursor from a previous page");
  return Number(match[1]);
}

/**
 * The query, with dates as the instants they name, written as the index stores times
 * (`Date#toISOString`: UTC, milliseconds), so that comparing them as text compares instants:
 * `2026-12-01T15:00:00+02:00` becomes `2026-12-01T13:00:00.000Z`.
 */
export function parseListQuery(query: unknown) {
  const parsed = parse(ListQuery, query ?? {}, "");
  const instant = (value: string | undefined, field: string) => {
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw invalid(field, "must be an ISO 8601 date-time that exists");
    return new Date(ms).toISOString();
  };
  return {
    ...parsed,
    date_start: instant(parsed.date_start, "date_start"),
    date_end: instant(parsed.date_end, "date_end"),
    after: parsed.cursor === undefined ? undefined : decodeCursor(parsed.cursor),
  };
}

/** The Cloudflare REST API names the trigger with a smaller vocabulary. */
export function triggerSource(trigger: Trigger): "unknown" | "api" | "binding" | "event" | "cron" {
  switch (trigger) {
    case "api":
      return "api";
    case "cron":
    case "schedule":
      return "cron";
    case "queue":
      return "event";
    case "unknown":
      return "unknown";
    default:
      return "binding";
  }
}

export interface InstanceSummary {
  id: string;
  workflow: string;
  status: IndexRow["status"];
  started_by: Trigger;
  trigger_source: ReturnType<typeof triggerSource>;
  created_on: string;
  modified_on: string;
  started_on: string | null;
  ended_on: string | null;
  workflow_id: string;
  version_id: string;
}

export function summarize(workflow: string, row: IndexRow, versionId: string): InstanceSummary {
  return {
    id: row.id,
    workflow,
    status: row.status,
    started_by: row.trigger,
    trigger_source: triggerSource(row.trigger),
    created_on: row.created_on,
    modified_on: row.modified_on,
    // The binding does not say when an instance left the queue.
    started_on: null,
    ended_on: row.ended_on,
    workflow_id: workflow,
    version_id: versionId,
  };
}
