import { z } from "zod";
import type { ResultInfo } from "../shared/envelope";
import { conflict, InstanceError, invalid, notFound } from "../shared/errors";
import type { Milestone } from "../shared/milestones";
import { bindingOf, findWorkflow, type WorkflowDeclaration } from "../workflows/declaration";
import { instanceIndex, recordCreated, type Trigger } from "../workflows/instance-records";
import { mapPlatformError } from "../workflows/platform-errors";
import { EventType, InstanceId } from "../workflows/platform-limits";
import { claimIds } from "./create-claims";
import type { IndexDetails } from "./instance-index";
import { encodeCursor, type InstanceSummary, parseListQuery, summarize, triggerSource } from "./listing";
import { type RunStep, type RunSummary, readHistory, stepsOf, summaryOf } from "./run-history";
import { type InstanceStatusName, isEnded } from "./statuses";
import { instanceExists } from "./taken-ids";
import {
  assertPayloadSize,
  BatchBody,
  BulkBody,
  CreateBody,
  parse,
  type StatusAction,
  StatusBody,
  WorkflowName,
} from "./validation";

/**
 * The one place that creates, reads and steers Workflow instances. The HTTP API, the
 * RPC service and the optional parts are thin adapters over these functions: inputs arrive
 * as `unknown`, are validated here, and nothing invalid reaches a binding.
 */

export type { InstanceStatusName };

export interface CreatedInstance {
  id: string;
  workflow: string;
  status: InstanceStatusName;
  /** The REST API's fields: here the workflow's name, the Worker version, and how it started. */
  workflow_id: string;
  version_id: string;
  trigger_source: ReturnType<typeof triggerSource>;
}

/**
 * `GET .../instances/:id`: the Cloudflare REST API's instance, field for field (its times,
 * params, error and rollback, and its `steps`, from the platform's history of the run), and
 * beside them what this Worker adds: who started it and its app-level progress.
 */
export interface InstanceDetails extends RunSummary {
  id: string;
  workflow: string;
  status: InstanceStatusName;
  /** What `run` returned, once complete; else null. */
  output: unknown;
  success: boolean | null;
  trigger: { source: ReturnType<typeof triggerSource> };
  versionId: string;
  /** How many steps the history holds (sleeps, waits, rollbacks and a termination count too). */
  step_count: number;
  /** The steps in the order they started (`?order=desc`: newest first); left out with `?simple=true`. */
  steps?: RunStep[];
  /** Set when the history was longer than one read takes (HISTORY_LIMITS): `steps` stops there. */
  steps_truncated?: true;
  /** Which path started it (from the instance index; `unknown` if never recorded). */
  started_by: Trigger;
  /** When it was created and when it ended, as the platform recorded them (`queued` and `end`). */
  created_on: string | null;
  ended_on: string | null;
  /**
   * The latest milestone the instance reported (the last of `milestones`), or null if
   * it reported none: `{ step, percent, message, type, at }`. `step` is the step it
   * reached (`reserve inventory`, `wait for approval`, `create shipment`) or `complete` /
   * `failed`; `percent` is 0 to 1; `type` is `progress`, `complete` or `error`; `at` is when
   * the Worker recorded it (ISO 8601). MyWorkflow and ParentWorkflow report for every
   * instance, however it was started; RestockWorkflow reports nothing.
   */
  progress: Milestone | null;
  /**
   * Every milestone of the current run, oldest first (at most 20, the newest kept). A
   * restart clears them; a step reported again (a restart from a step) drops it and
   * every later one before it is recorded anew.
   */
  milestones: Milestone[];
}

/** The events `?simple=true` reads: the run's own and each step's start (for `step_count`), not their attempts. */
const SIMPLE_EVENTS: WorkflowInstanceEventType[] = [
  "workflow_queued",
  "workflow_started",
  "workflow_completed",
  "workflow_errored",
  "workflow_terminated",
  "step_started",
  "sleep_started",
  "wait_started",
  "rollback_started",
  "rollback_step_started",
  "rollback_step_errored",
  "rollback_completed",
  "rollback_errored",
];

/** `GET .../instances/:id`'s query, as REST takes it. */
export const InstanceQuery = z
  .object({
    simple: z.enum(["true", "false"]).optional(),
    order: z.enum(["asc", "desc"]).default("asc"),
  })
  .strict();

export interface InstanceList {
  items: InstanceSummary[];
  result_info: ResultInfo;
}

export type BulkResult =
  | { id: string; success: true; status: InstanceStatusName }
  | { id: string; success: false; error: { code: number; message: string } };

/** A sent event: REST's `instanceId` and `timestamp`, and the id and type again by this API's names. */
export interface SentEvent {
  instanceId: string;
  timestamp: string;
  id: string;
  type: string;
}

export interface StatusChange {
  id: string;
  status: InstanceStatusName;
  timestamp: string;
}

/** The workflow a caller names, or a 404 (a 400 for a name no workflow could have). */
export function requireWorkflow(name: unknown): WorkflowDeclaration {
  const valid = parse(WorkflowName, name, "workflow");
  const workflow = findWorkflow(valid);
  if (!workflow) throw notFound(`workflow ${valid}`);
  return workflow;
}

function validateParams(definition: WorkflowDeclaration, params: unknown, field: string): void {
  assertPayloadSize(params, field);
  parse(definition.params, params, field);
}

function createOptions(
  definition: WorkflowDeclaration,
  body: CreateBody,
  field: string,
): WorkflowInstanceCreateOptions {
  validateParams(definition, body.params, `${field}params`);
  const retention = body.instance_retention && {
    successRetention: body.instance_retention.success_retention,
    errorRetention: body.instance_retention.error_retention,
  };
  return {
    id: body.instance_id,
    params: body.params,
    ...(retention ? { retention } : {}),
    ...(body.location_hint ? { locationHint: body.location_hint } : {}),
  } as WorkflowInstanceCreateOptions;
}

/** The deployed Worker version (the `version_metadata` binding). */
const versionOf = (env: Env) => env.CF_VERSION_METADATA.id;

/**
 * A create answers `queued`, as the Cloudflare REST API does for a new instance: the
 * engine has accepted it and starts it on its own schedule. Reading its live status here
 * would cost two more engine round trips per create; `GET .../instances/:id` reads it.
 */
const createdView = (env: Env, definition: WorkflowDeclaration, id: string, trigger: Trigger): CreatedInstance => ({
  id,
  workflow: definition.name,
  status: "queued",
  workflow_id: definition.name,
  version_id: versionOf(env),
  trigger_source: triggerSource(trigger),
});

/** The binding's handle on instance `id`; a 404 if it has none. */
export async function instanceHandle(env: Env, definition: WorkflowDeclaration, id: string): Promise<WorkflowInstance> {
  try {
    return await bindingOf(env, definition).get(id);
  } catch (error) {
    throw mapPlatformError(error, definition.name, id);
  }
}

async function readStatus(instance: WorkflowInstance): Promise<InstanceStatus> {
  return instance.status();
}

/**
 * Resolves once a new instance answers status(), that is once its engine has stored it:
 * only then does a concurrent create of the same id see it (see create-claims.ts). Needed
 * only for ids the caller chose; the binding's own ids cannot collide. The instance exists
 * whatever this says, so a failure is logged, never reported as a failed create.
 */
async function becameVisible(instance: WorkflowInstance, workflow: string): Promise<void> {
  try {
    await instance.status();
  } catch (error) {
    console.warn(`instance ${instance.id} of ${workflow} was created but did not answer status()`, error);
  }
}

/**
 * Ids a create was refused for because they exist: the index may lack them (an earlier
 * create's record was lost, and this is its retry), so they are recorded, started by
 * `unknown`, their status unread (the next listing that shows them reads it).
 */
async function recordExisting(env: Env, workflow: string, ids: string[]): Promise<void> {
  await recordCreated(
    env,
    workflow,
    ids.map((id) => ({ id, status: "unknown" })),
    "unknown",
  );
}

const isConflict = (error: unknown) => error instanceof InstanceError && error.kind === "conflict";

/**
 * Creates one instance and records it in the instance index. `trigger` says which
 * path started it (the HTTP API, RPC, an optional part: records.ts lists them).
 */
export async function createInstance(
  env: Env,
  workflow: unknown,
  body: unknown,
  trigger: Trigger = "api",
): Promise<CreatedInstance> {
  const definition = requireWorkflow(workflow);
  const options = createOptions(definition, parse(CreateBody, body ?? {}, ""), "");
  // Held until the new instance answers status(): see create-claims.ts.
  const release = claimIds(definition.name, options.id ? [options.id] : []);
  try {
    let instance: WorkflowInstance;
    try {
      instance = await bindingOf(env, definition).create(options);
    } catch (error) {
      const mapped = mapPlatformError(error, definition.name, options.id);
      if (options.id && isConflict(mapped)) await recordExisting(env, definition.name, [options.id]);
      throw mapped;
    }
    // From here the instance exists: it is recorded, whatever happens next.
    const created = createdView(env, definition, instance.id, trigger);
    const recorded = recordCreated(env, definition.name, [created], trigger);
    if (options.id) await becameVisible(instance, definition.name);
    await recorded;
    return created;
  } finally {
    release();
  }
}

export async function createBatch(
  env: Env,
  workflow: unknown,
  body: unknown,
  trigger: Trigger = "api",
): Promise<CreatedInstance[]> {
  const definition = requireWorkflow(workflow);
  const items = parse(BatchBody, body, "body");
  const options = items.map((item, i) => createOptions(definition, item, `${i}.`));
  assertPayloadSize(options, "body");

  const ids = options.map((o) => o.id).filter((id): id is string => id !== undefined);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw invalid("instance_id", `${repeated} appears more than once in the batch`);
  // Held until every new instance answers status(): see create-claims.ts.
  const release = claimIds(definition.name, ids);
  try {
    // A taken id makes the whole batch a 409 with nothing created (the binding would create
    // the others and report only the taken ones), so check before creating anything.
    const existing = await Promise.all(ids.map((id) => instanceExists(env, definition, id)));
    const taken = ids.filter((_, i) => existing[i]);
    if (taken.length) {
      await recordExisting(env, definition.name, taken);
      throw conflict(`instances of ${definition.name} already exist: ${taken.join(", ")}`);
    }

    let outcome: WorkflowBatchCreateResult;
    try {
      // The object form reports each instance it could not create (the array form
      // drops them silently).
      outcome = await bindingOf(env, definition).createBatch({ instances: options });
    } catch (error) {
      throw mapPlatformError(error, definition.name);
    }
    return await settleBatch(env, definition, outcome, trigger, new Set(ids));
  } finally {
    release();
  }
}

/**
 * What a batch create answers, from what the binding did: the instances it created are
 * recorded, whatever happens next; those whose ids were chosen are waited for until they
 * answer status() (see create-claims.ts). If it could not create some (another caller won
 * a race for an id after the check above), the answer is a 409 naming them, or the first
 * failure as the platform gave it when it is not a conflict.
 */
export async function settleBatch(
  env: Env,
  definition: WorkflowDeclaration,
  outcome: WorkflowBatchCreateResult,
  trigger: Trigger,
  chosen: ReadonlySet<string>,
): Promise<CreatedInstance[]> {
  const results = outcome.created.map((instance) => createdView(env, definition, instance.id, trigger));
  const recorded = recordCreated(env, definition.name, results, trigger);
  await Promise.all(
    outcome.created.filter((instance) => chosen.has(instance.id)).map((i) => becameVisible(i, definition.name)),
  );
  await recorded;
  if (outcome.errors.length) {
    const failed = outcome.errors.map((e) => e.id ?? `#${e.index}`).join(", ");
    const first = mapPlatformError(new Error(outcome.errors[0]!.message), definition.name);
    throw isConflict(first) ? conflict(`instances of ${definition.name} already exist: ${failed}`) : first;
  }
  return results;
}

export async function getInstance(
  env: Env,
  workflow: unknown,
  id: unknown,
  query: unknown = {},
): Promise<InstanceDetails> {
  const definition = requireWorkflow(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const { simple, order } = parse(InstanceQuery, query ?? {}, "");
  const instance = await instanceHandle(env, definition, instanceId);
  let status: InstanceStatus;
  let history: Awaited<ReturnType<typeof readHistory>>;
  try {
    status = await readStatus(instance);
    history = await readHistory(instance, {
      ended: isEnded(status.status),
      ...(simple === "true" ? { filter: SIMPLE_EVENTS } : {}),
    });
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
  const run = summaryOf(history.events);
  const steps = stepsOf(history.events);
  // The read doubles as a status update for the index (a restart, for example), and
  // records an instance the index lacks, with the times its history gives.
  // Best effort: an index that cannot answer costs the read its index fields, not the read.
  const { row, milestones } = await instanceIndex(env, definition.name)
    .details(definition.name, instanceId, status.status, { created_on: run.queued, ended_on: run.end })
    .catch((error): IndexDetails => {
      console.error(`index of ${definition.name} unreachable on a read of ${instanceId}`, error);
      return { row: null, milestones: [] };
    });
  const startedBy = row?.trigger ?? "unknown";
  // status() carries local-only fields; return the documented ones.
  return {
    id: instanceId,
    workflow: definition.name,
    status: status.status,
    ...run,
    output: status.output ?? null,
    error: status.error ? { name: status.error.name, message: status.error.message } : run.error,
    success: status.status === "complete" ? true : status.status === "errored" ? false : null,
    trigger: { source: triggerSource(startedBy) },
    versionId: versionOf(env),
    step_count: steps.length,
    ...(simple === "true" ? {} : { steps: order === "desc" ? steps.reverse() : steps }),
    ...(history.truncated ? { steps_truncated: true as const } : {}),
    started_by: startedBy,
    created_on: run.queued ?? row?.created_on ?? null,
    ended_on: run.end ?? row?.ended_on ?? null,
    progress: milestones[milestones.length - 1] ?? null,
    milestones,
  };
}

/** Instances of a workflow, newest first by default, with the REST API's query and `result_info`. */
export async function listInstances(env: Env, workflow: unknown, query: unknown): Promise<InstanceList> {
  const definition = requireWorkflow(workflow);
  const q = parseListQuery(query);
  const page = await instanceIndex(env, definition.name).list(definition.name, {
    status: q.status,
    page: q.page,
    per_page: q.per_page,
    after: q.after,
    direction: q.direction,
    date_start: q.date_start,
    date_end: q.date_end,
  });
  const version = versionOf(env);
  return {
    items: page.rows.map((row) => summarize(definition.name, row, version)),
    result_info: {
      page: q.after === undefined ? q.page : 1,
      per_page: q.per_page,
      count: page.rows.length,
      total_count: page.total,
      total_pages: Math.ceil(page.total / q.per_page),
      ...(page.next !== undefined ? { cursor: encodeCursor(page.next) } : {}),
    },
  };
}

/** Which current statuses each action is valid from; the binding is silent about some. */
const ALLOWED_FROM: Record<StatusAction, (s: InstanceStatusName) => boolean> = {
  pause: (s) => !isEnded(s) && s !== "paused" && s !== "waitingForPause",
  resume: (s) => s === "paused" || s === "waitingForPause",
  terminate: (s) => !isEnded(s),
  restart: () => true,
};

export async function changeStatus(env: Env, workflow: unknown, id: unknown, body: unknown): Promise<StatusChange> {
  const definition = requireWorkflow(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const request = parse(StatusBody, body, "");
  return applyStatus(env, definition, instanceId, request);
}

async function applyStatus(
  env: Env,
  definition: WorkflowDeclaration,
  instanceId: string,
  request: { status: StatusAction; rollback?: boolean; from?: WorkflowInstanceRestartOptions["from"] },
): Promise<StatusChange> {
  const action = request.status;
  const instance = await instanceHandle(env, definition, instanceId);
  let change: StatusChange;
  // A full restart runs every step again: the milestones recorded before it are the old run's.
  const restartedAt = new Date().toISOString();
  try {
    const current = (await readStatus(instance)).status;
    if (!ALLOWED_FROM[action](current)) {
      throw conflict(`cannot ${action} instance ${instanceId}: it is ${current}`);
    }
    if (action === "terminate" && request.rollback !== undefined)
      await instance.terminate({ rollback: request.rollback });
    else if (action === "restart" && request.from) await instance.restart({ from: request.from });
    else await instance[action]();
    change = { id: instanceId, status: (await readStatus(instance)).status, timestamp: new Date().toISOString() };
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
  const index = instanceIndex(env, definition.name);
  await index.setStatus(instanceId, change.status);
  if (action === "restart" && !request.from) {
    // Best effort: the restart happened; a stale milestone is dropped when reported again anyway.
    await index
      .clearMilestones(instanceId, restartedAt)
      .catch((error) => console.warn(`milestones of ${instanceId} not cleared`, error));
  }
  return change;
}

/** The envelope code of an internal error (as the HTTP API's 500 answers carry). */
const INTERNAL_ERROR_CODE = 50000;

/**
 * Pause, resume or terminate up to 100 instances at once. Each id gets its own result,
 * always: one instance in the wrong state, or an unexpected fault on one id (logged, and
 * reported as that id's failure with code 50000), does not fail the others, some of which
 * may already have changed.
 */
export async function bulkChangeStatus(env: Env, workflow: unknown, body: unknown): Promise<BulkResult[]> {
  const definition = requireWorkflow(workflow);
  const { action, instance_ids } = parse(BulkBody, body, "");
  const results: BulkResult[] = [];
  for (let i = 0; i < instance_ids.length; i += 10) {
    results.push(
      ...(await Promise.all(
        instance_ids.slice(i, i + 10).map(async (id): Promise<BulkResult> => {
          try {
            const change = await applyStatus(env, definition, id, { status: action });
            return { id, success: true, status: change.status };
          } catch (error) {
            if (error instanceof InstanceError) {
              return { id, success: false, error: { code: error.code, message: error.message } };
            }
            console.error(`bulk ${action} of instance ${id} of ${definition.name} failed`, error);
            return {
              id,
              success: false,
              error: {
                code: INTERNAL_ERROR_CODE,
                message: `internal error during ${action} of instance ${id}; its status may have changed (see logs)`,
              },
            };
          }
        }),
      )),
    );
  }
  return results;
}

export async function sendEvent(
  env: Env,
  workflow: unknown,
  id: unknown,
  type: unknown,
  payload: unknown,
): Promise<SentEvent> {
  const definition = requireWorkflow(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const eventType = parse(EventType, type, "event_type");
  assertPayloadSize(payload, "payload");
  // What the schema makes of the payload is sent: a `z.object` schema drops keys it does not name.
  // Own keys only: a type such as `toString` names no declared event, not Object.prototype's.
  const schema = Object.hasOwn(definition.events, eventType) ? definition.events[eventType] : undefined;
  const checked = schema ? parse(schema, payload, "payload") : payload;
  const instance = await instanceHandle(env, definition, instanceId);
  try {
    const current = (await readStatus(instance)).status;
    if (isEnded(current)) {
      throw conflict(`cannot send ${eventType} to instance ${instanceId}: it is ${current}`);
    }
    await instance.sendEvent({ type: eventType, payload: checked });
    return { instanceId, timestamp: new Date().toISOString(), id: instanceId, type: eventType };
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
}
