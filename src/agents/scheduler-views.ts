import type { Schedule } from "agents";
import type { WorkflowInfo } from "agents/workflows";
import type { JsonValue } from "../shared/rpc-result";
import { WORKFLOWS } from "../workflows/registry";
import type { WorkflowStatusName, WorkflowTarget } from "./scheduler-input";

/**
 * What the WorkflowScheduler Agent returns and broadcasts: plain JSON shapes with
 * the registry's workflow names (the SDK tracks binding names) and ISO dates. Types
 * that cross RPC never mention `unknown`, or they collapse to `never`.
 */

/**
 * The payload stored with a schedule: what to start when it fires, and, for a cron, whose
 * create budget each firing spends (the rate-limit key of whoever made it; never shown).
 */
export type ScheduledStart = WorkflowTarget & { budget_key?: string };

export interface ScheduleView {
  id: string;
  workflow: string;
  params?: JsonValue;
  instance_id?: string;
  type: "delayed" | "scheduled" | "cron";
  delay_seconds?: number;
  cron?: string;
  /** When it fires next (for cron, the next occurrence). */
  next_run_at: string;
}

/** Why a tracked workflow was started. Stored as SDK tracking metadata. */
export interface RunOrigin {
  source: "schedule" | "request";
  schedule_id?: string;
}

export interface TrackedWorkflow extends RunOrigin {
  id: string;
  workflow: string;
  status: WorkflowStatusName;
  error?: { name: string; message: string };
  created_at: string;
  updated_at: string;
  completed_at?: string;
}

export interface TrackedPage {
  workflows: TrackedWorkflow[];
  /** Tracked workflows matching the filter, across all pages. */
  total: number;
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** One workflow run as WebSocket clients see it in the Agent's state. */
export interface RunView {
  id: string;
  workflow: string;
  status: WorkflowStatusName;
  progress?: { step: string; percent: number; message?: string };
  output?: JsonValue;
  error?: string;
  updated_at: string;
}

/** The Agent's state, synced to every connected WebSocket client. */
export interface SchedulerState {
  /** Most recently updated first. */
  runs: RunView[];
}

export const workflowNameOfBinding = (binding: string) => WORKFLOWS.find((w) => w.binding === binding)?.name ?? binding;

export function scheduleView(schedule: Schedule<ScheduledStart>): ScheduleView | undefined {
  if (schedule.type === "interval") return undefined;
  const { workflow, params, instance_id } = schedule.payload;
  return {
    id: schedule.id,
    workflow,
    ...(params !== undefined ? { params } : {}),
    ...(instance_id !== undefined ? { instance_id } : {}),
    type: schedule.type,
    ...(schedule.type === "delayed" ? { delay_seconds: schedule.delayInSeconds } : {}),
    ...(schedule.type === "cron" ? { cron: schedule.cron } : {}),
    next_run_at: new Date(schedule.time * 1000).toISOString(),
  };
}

export function trackedView(info: WorkflowInfo): TrackedWorkflow {
  const metadata = (info.metadata ?? {}) as Partial<RunOrigin>;
  return {
    id: info.workflowId,
    workflow: workflowNameOfBinding(info.workflowName),
    status: info.status,
    source: metadata.source ?? "request",
    ...(metadata.schedule_id ? { schedule_id: metadata.schedule_id } : {}),
    ...(info.error ? { error: { name: info.error.name, message: info.error.message } } : {}),
    created_at: info.createdAt.toISOString(),
    updated_at: info.updatedAt.toISOString(),
    ...(info.completedAt ? { completed_at: info.completedAt.toISOString() } : {}),
  };
}
