import { Agent, type Schedule } from "agents";
import type { WorkflowCallback } from "agents/workflows";
import { namedClientKey, spendCreateBudget } from "../api/rate-limit";
import { isEnded } from "../instances/statuses";
import { conflict, InstanceError, notFound } from "../shared/errors";
import type { JsonValue, RpcError, RpcResult } from "../shared/rpc-result";
import { findWorkflow, type WorkflowDeclaration } from "../workflows/declaration";
import { recordCreated } from "../workflows/instance-records";
import { mapPlatformError } from "../workflows/platform-errors";
import type { WorkflowReport } from "./report";
import {
  ACTIVE_STATUSES,
  fromPageCursor,
  parseListRequest,
  parseScheduleRequest,
  parseStartRequest,
  SCHEDULER_LIMITS,
  toPageCursor,
  validateTarget,
} from "./scheduler-input";
import {
  type RunOrigin,
  type RunView,
  type ScheduledStart,
  type SchedulerState,
  type ScheduleView,
  scheduleView,
  type TrackedPage,
  type TrackedWorkflow,
  trackedView,
  workflowNameOfBinding,
} from "./scheduler-views";

/** The Durable Object binding of this class in wrangler.jsonc. */
export const SCHEDULER_BINDING = "WORKFLOW_SCHEDULER";

/** How often tracked workflows that are still active get their status refreshed. */
export const STATUS_REFRESH_CRON = "*/5 * * * *";

/**
 * Schedules and tracks workflows for one user or tenant (one Agent per name).
 *
 * - Schedules live in the Agent's SQLite storage and fire from a Durable Object
 *   alarm (`this.schedule`): after a delay, at a date, or on a cron. Each firing
 *   starts one instance.
 * - Instances are started with the SDK's `runWorkflow`, which records them in the
 *   Agent's tracking table (listed with `getWorkflows`) and tells the workflow
 *   which Agent to report to. Params are validated with the instance core first.
 * - Workflows report progress, completion and errors (MyWorkflow does); a cron
 *   refreshes the status of whatever is still active, for workflows that do not
 *   report or were terminated from outside.
 * - Every change lands in the Agent's state, which the SDK broadcasts to every
 *   connected WebSocket client. Clients only watch: connections are read-only.
 *
 * Public methods are called over RPC by src/api/agents.ts and return an RpcResult,
 * because an Error thrown across RPC loses its kind and status.
 */
export class WorkflowScheduler extends Agent<Env, SchedulerState> {
  override initialState: SchedulerState = { runs: [] };

  override shouldConnectionBeReadonly(): boolean {
    return true;
  }

  /**
   * `budgetKey`: the create-budget key of whoever asks (src/api/rate-limit.ts), which every
   * firing of a cron schedule spends; without one, the Agent's own.
   */
  async addSchedule(input: unknown, budgetKey?: string): Promise<RpcResult<ScheduleView>> {
    return settle(async () => {
      const { target, when } = parseScheduleRequest(input);
      const held = await this.workflowSchedules();
      if (held.length >= SCHEDULER_LIMITS.schedules) {
        throw conflict(`this agent already holds ${SCHEDULER_LIMITS.schedules} schedules; cancel one first`);
      }
      if ("cron" in when && held.filter((s) => s.type === "cron").length >= SCHEDULER_LIMITS.cronSchedules) {
        throw conflict(`this agent already holds ${SCHEDULER_LIMITS.cronSchedules} cron schedules; cancel one first`);
      }
      const at = "cron" in when ? when.cron : "at" in when ? new Date(when.at) : when.delay_seconds;
      const payload: ScheduledStart =
        "cron" in when ? { ...target, budget_key: budgetKey ?? (await this.ownBudgetKey()) } : target;
      // Cron schedules are idempotent by default in the SDK (same cron, callback and
      // payload return the existing schedule); one-shots never are.
      const schedule = await this.schedule<ScheduledStart>(at, "runScheduledWorkflow", payload);
      return scheduleView(schedule)!;
    });
  }

  /** The create budget of the Agent itself: what a cron made without a caller's key spends. */
  private ownBudgetKey(): Promise<string> {
    return namedClientKey(`agent:${this.name}`);
  }

  async listWorkflowSchedules(): Promise<RpcResult<ScheduleView[]>> {
    return settle(async () => (await this.workflowSchedules()).map((s) => scheduleView(s)!));
  }

  async removeSchedule(id: string): Promise<RpcResult<{ id: string; cancelled: true }>> {
    return settle(async () => {
      // Only workflow schedules: the status refresh is the Agent's own business.
      const schedule = await this.getScheduleById(id);
      if (schedule?.callback !== "runScheduledWorkflow") throw notFound(`schedule ${id}`);
      if (!(await this.cancelSchedule(id))) throw notFound(`schedule ${id}`);
      return { id, cancelled: true as const };
    });
  }

  async startWorkflow(input: unknown): Promise<RpcResult<TrackedWorkflow>> {
    return settle(async () => {
      const target = parseStartRequest(input);
      return this.track(target, target.instance_id, { source: "request" });
    });
  }

  async listTrackedWorkflows(query: unknown): Promise<RpcResult<TrackedPage>> {
    return settle(async () => {
      const request = parseListRequest(query);
      const page = this.getWorkflows({
        limit: request.limit,
        orderBy: request.order,
        ...(request.status ? { status: request.status } : {}),
        ...(request.workflow ? { workflowName: findWorkflow(request.workflow)!.binding } : {}),
        ...(request.cursor ? { cursor: fromPageCursor(request.cursor) } : {}),
      });
      return {
        workflows: page.workflows.map(trackedView),
        total: page.total,
        next_cursor: page.nextCursor === null ? null : toPageCursor(page.nextCursor),
      };
    });
  }

  /** Runs the status refresh now instead of waiting for its cron. */
  async refreshStatuses(): Promise<RpcResult<{ checked: number; changed: number }>> {
    return settle(() => this.checkWorkflowStatuses());
  }

  /** Called by workflows this Agent started (./report.ts). */
  async handleWorkflowReport(workflowName: string, instanceId: string, report: WorkflowReport): Promise<void> {
    // The time the workflow made the report; a report without one counts as old.
    const base = { workflowName, workflowId: instanceId, timestamp: report.at ?? 0 };
    // The SDK's callback handler updates the tracking row, then calls the
    // onWorkflowProgress / onWorkflowComplete / onWorkflowError hooks below.
    const callback: WorkflowCallback =
      report.type === "progress"
        ? { ...base, type: "progress", progress: report.progress }
        : report.type === "complete"
          ? { ...base, type: "complete", result: report.result }
          : { ...base, type: "error", error: report.error };
    await this.onWorkflowCallback(callback);
  }

  /** Schedule callback: one firing starts one instance. */
  async runScheduledWorkflow(payload: ScheduledStart, schedule: Schedule<ScheduledStart>): Promise<void> {
    // The id derives from the schedule and the firing time, so if the SDK retries
    // this callback after the instance was created, the retry finds it instead of
    // starting a second one.
    const id =
      payload.instance_id ??
      (schedule.type === "cron" ? `sched-${schedule.id}-${schedule.time}` : `sched-${schedule.id}`);
    // Each firing of a cron is a create of whoever made it: it spends their budget, so
    // their schedules together never start more than their own creates could.
    if (schedule.type === "cron") {
      const key = payload.budget_key ?? (await this.ownBudgetKey());
      if (!(await spendCreateBudget(this.env, key))) {
        console.warn(`schedule ${schedule.id}: not started at ${schedule.time}: its maker's create budget is spent`);
        this.recordRun({
          id,
          workflow: payload.workflow,
          status: "errored",
          error: "not started: the create budget of whoever made this schedule is spent (rate limit)",
        });
        return;
      }
    }
    let target: ScheduledStart;
    try {
      // The registry or a schema may have changed since the schedule was made.
      target = validateTarget(payload).target;
    } catch (error) {
      // Retrying cannot make invalid params valid: record it, do not throw.
      const message = error instanceof Error ? error.message : String(error);
      console.error(`schedule ${schedule.id}: not started: ${message}`);
      this.recordRun({ id, workflow: payload.workflow, status: "errored", error: `not started: ${message}` });
      return;
    }
    try {
      await this.track(target, id, { source: "schedule", schedule_id: schedule.id });
    } catch (error) {
      if (!(error instanceof InstanceError && error.kind === "conflict")) throw error;
      // Our own id taken means an earlier attempt of this firing started it: done.
      // A caller-chosen id may have been taken by someone else in the meantime.
      if (payload.instance_id !== undefined && !this.getWorkflow(id)) {
        this.recordRun({ id, workflow: target.workflow, status: "errored", error: `not started: ${error.message}` });
      }
    }
  }

  /** The state WebSocket clients see, for plain HTTP callers. */
  async snapshot(): Promise<SchedulerState> {
    return this.state;
  }

  /**
   * Cron callback (the seed's `checkWorkflowStatus`, for every active workflow at
   * once): reads the platform status of each tracked workflow that may still change,
   * updates tracking and state, and removes its own cron once nothing is active.
   */
  async checkWorkflowStatuses(): Promise<{ checked: number; changed: number }> {
    let checked = 0;
    let changed = 0;
    let cursor: string | undefined;
    do {
      const page = this.getWorkflows({
        status: ACTIVE_STATUSES,
        limit: 100,
        orderBy: "asc",
        ...(cursor ? { cursor } : {}),
      });
      for (const info of page.workflows) {
        checked++;
        let status: InstanceStatus;
        try {
          status = await this.getWorkflowStatus(info.workflowName, info.workflowId);
        } catch (error) {
          const mapped = mapPlatformError(error, info.workflowName, info.workflowId);
          if (mapped instanceof InstanceError && mapped.kind === "not_found") {
            // Gone (retention expired, or deleted): stop polling it.
            changed++;
            await this.onWorkflowCallback({
              workflowName: info.workflowName,
              workflowId: info.workflowId,
              type: "error",
              error: "instance no longer exists",
              timestamp: Date.now(),
            });
          } else {
            console.warn(`status of ${info.workflowId} unavailable`, error);
          }
          continue;
        }
        if (status.status !== info.status) changed++;
        this.recordRun({
          id: info.workflowId,
          workflow: workflowNameOfBinding(info.workflowName),
          status: status.status,
          ...(status.error ? { error: status.error.message } : {}),
          ...(status.status === "complete" && status.output !== undefined
            ? { output: status.output as JsonValue }
            : {}),
        });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (this.getWorkflows({ status: ACTIVE_STATUSES, limit: 1 }).total === 0) {
      for (const s of await this.listSchedules({ type: "cron" })) {
        if (s.callback === "checkWorkflowStatuses") await this.cancelSchedule(s.id);
      }
    }
    return { checked, changed };
  }

  /**
   * Every report passes here. A progress report for a run this Agent shows as finished is
   * either a report its run made before finishing, arriving late, or the first report of
   * a new run of the same instance: restarted, through the instance API or the dashboard,
   * without this Agent being told. The time the workflow made it (`timestamp`) tells which:
   * a new run reports after the old one was recorded as finished. A late report is
   * dropped; a new run shows as running again, in the state and in the tracking row
   * (re-read from the binding, so the status refresh polls it again).
   */
  override async onWorkflowCallback(callback: WorkflowCallback): Promise<void> {
    const finishedAt = callback.type === "progress" ? this.finishedAt(callback.workflowId) : undefined;
    if (finishedAt !== undefined) {
      if (callback.timestamp <= finishedAt) return;
      await this.reopen(callback.workflowName, callback.workflowId);
    }
    await super.onWorkflowCallback(callback);
  }

  /** When run `id` was recorded as finished (ms since the epoch), or undefined if it was not. */
  private finishedAt(id: string): number | undefined {
    const run = this.state.runs.find((r) => r.id === id);
    if (run) return isEnded(run.status) ? Date.parse(run.updated_at) : undefined;
    // Past the state's window, the tracking row says; it keeps whole seconds, so the run
    // counts as finished until the end of its second.
    const completed = this.getWorkflow(id)?.completedAt;
    return completed ? completed.getTime() + 999 : undefined;
  }

  override async onWorkflowProgress(workflowName: string, instanceId: string, progress: unknown): Promise<void> {
    const p = (progress ?? {}) as { step?: unknown; percent?: unknown; message?: unknown };
    this.recordRun({
      id: instanceId,
      workflow: workflowNameOfBinding(workflowName),
      status: "running",
      progress: {
        step: String(p.step ?? ""),
        percent: typeof p.percent === "number" ? p.percent : 0,
        ...(typeof p.message === "string" ? { message: p.message } : {}),
      },
    });
  }

  override async onWorkflowComplete(workflowName: string, instanceId: string, result?: unknown): Promise<void> {
    this.recordRun({
      id: instanceId,
      workflow: workflowNameOfBinding(workflowName),
      status: "complete",
      ...(result !== undefined ? { output: result as JsonValue } : {}),
    });
  }

  override async onWorkflowError(workflowName: string, instanceId: string, error: string): Promise<void> {
    this.recordRun({ id: instanceId, workflow: workflowNameOfBinding(workflowName), status: "errored", error });
  }

  private async workflowSchedules(): Promise<Schedule<ScheduledStart>[]> {
    const all = (await this.listSchedules()) as Schedule<ScheduledStart>[];
    return all.filter((s) => s.callback === "runScheduledWorkflow" && s.type !== "interval");
  }

  /** Starts a tracked instance; a taken id is a 409 from the instance core's mapping. */
  private async track(target: ScheduledStart, id: string | undefined, origin: RunOrigin): Promise<TrackedWorkflow> {
    const definition: WorkflowDeclaration = findWorkflow(target.workflow)!;
    let instanceId: string;
    try {
      instanceId = await this.runWorkflow(definition.binding, target.params ?? {}, {
        ...(id !== undefined ? { id } : {}),
        agentBinding: SCHEDULER_BINDING,
        metadata: { ...origin },
      });
    } catch (error) {
      if (error instanceof Error && /already being tracked/.test(error.message)) {
        throw conflict(`instance ${id} of ${definition.name} already exists`);
      }
      throw mapPlatformError(error, definition.name, id);
    }
    await recordCreated(this.env, definition.name, [{ id: instanceId, status: "queued" }], "agent");
    // Poll statuses while anything is active (idempotent: one cron, however often called).
    await this.schedule(STATUS_REFRESH_CRON, "checkWorkflowStatuses");
    this.recordRun({ id: instanceId, workflow: definition.name, status: "queued" });
    return trackedView(this.getWorkflow(instanceId)!);
  }

  /** A new run of a finished instance: its old outcome goes, and it shows as running. */
  private async reopen(workflowBinding: string, id: string): Promise<void> {
    try {
      // The SDK's own status read, which updates the tracking row from the binding.
      await this.getWorkflowStatus(workflowBinding, id);
    } catch (error) {
      console.warn(`status of restarted ${id} unavailable; its tracking row catches up on its next report`, error);
    }
    this.recordRun({ id, workflow: workflowNameOfBinding(workflowBinding), status: "running" }, { newRun: true });
  }

  /**
   * Upserts a run into the state (broadcast to clients), newest first, bounded. A finished
   * run is not made active again (a late report, or a status refresh that read the binding
   * just before the run finished) unless it is a new run (see onWorkflowCallback).
   */
  private recordRun(run: Omit<RunView, "updated_at">, { newRun = false } = {}): void {
    const previous = this.state.runs.find((r) => r.id === run.id);
    if (!newRun && previous && isEnded(previous.status) && !isEnded(run.status)) return;
    const merged: RunView = { ...(newRun ? {} : previous), ...run, updated_at: new Date().toISOString() };
    const runs = [merged, ...this.state.runs.filter((r) => r.id !== run.id)].slice(0, SCHEDULER_LIMITS.runsInState);
    this.setState({ runs });
  }
}

/** Runs `work` and reports its outcome as an RpcResult (see src/shared/rpc-result.ts). */
async function settle<T>(work: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, result: await work() };
  } catch (error) {
    if (error instanceof InstanceError) {
      const described: RpcError = { kind: error.kind, status: error.status, code: error.code, message: error.message };
      if (error.field) described.field = error.field;
      return { ok: false, error: described };
    }
    console.error("WorkflowScheduler: unhandled error", error);
    return {
      ok: false,
      error: { kind: "internal", status: 500, code: 50000, message: "internal error in the scheduler agent" },
    };
  }
}
