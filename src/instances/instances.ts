import { z } from "zod";
import { WORKFLOWS, bindingOf, findWorkflow, type WorkflowDefinition } from "../workflows/registry";
import { conflict, invalid, mapPlatformError, notFound } from "./errors";
import {
  BatchBody,
  CreateBody,
  EventType,
  InstanceId,
  StatusBody,
  WorkflowName,
  assertPayloadSize,
  parse,
  type StatusAction,
} from "./validation";

/**
 * The one place that creates, reads and steers Workflow instances. The HTTP API, the
 * RPC service and the Agent are thin adapters over these functions: inputs arrive
 * as `unknown`, are validated here, and nothing invalid reaches a binding.
 */

export type InstanceStatusName = InstanceStatus["status"];
const FINISHED: readonly InstanceStatusName[] = ["complete", "errored", "terminated"];

export interface WorkflowInfo {
  name: string;
  class_name: string;
  binding: string;
  description: string;
  params_schema: Record<string, unknown>;
  example_params: unknown;
  events: { type: string; payload_schema: Record<string, unknown> }[];
}

export interface CreatedInstance {
  id: string;
  workflow: string;
  status: InstanceStatusName;
}

export interface InstanceDetails {
  id: string;
  workflow: string;
  status: InstanceStatusName;
  output?: unknown;
  error?: { name: string; message: string };
}

export interface StatusChange {
  id: string;
  status: InstanceStatusName;
  timestamp: string;
}

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

export function listWorkflows(): WorkflowInfo[] {
  return WORKFLOWS.map((w) => ({
    name: w.name,
    class_name: w.class_name,
    binding: w.binding,
    description: w.description,
    params_schema: jsonSchema(w.params),
    example_params: w.example,
    events: Object.entries(w.events).map(([type, schema]) => ({ type, payload_schema: jsonSchema(schema) })),
  }));
}

export function workflowNamed(name: unknown): WorkflowDefinition {
  const valid = parse(WorkflowName, name, "workflow");
  const definition = findWorkflow(valid);
  if (!definition) throw notFound(`workflow ${valid}`);
  return definition;
}

function validateParams(definition: WorkflowDefinition, params: unknown, field: string): void {
  assertPayloadSize(params, field);
  parse(definition.params, params, field);
}

function createOptions(definition: WorkflowDefinition, body: CreateBody, field: string): WorkflowInstanceCreateOptions {
  validateParams(definition, body.params, `${field}params`);
  const retention = body.instance_retention && {
    successRetention: body.instance_retention.success_retention,
    errorRetention: body.instance_retention.error_retention,
  };
  return { id: body.instance_id, params: body.params, ...(retention ? { retention } : {}) } as WorkflowInstanceCreateOptions;
}

async function handle(env: Env, definition: WorkflowDefinition, id: string): Promise<WorkflowInstance> {
  try {
    return await bindingOf(env, definition).get(id);
  } catch (error) {
    throw mapPlatformError(error, definition.name, id);
  }
}

async function readStatus(instance: WorkflowInstance): Promise<InstanceStatus> {
  return instance.status();
}

export async function createInstance(env: Env, workflow: unknown, body: unknown): Promise<CreatedInstance> {
  const definition = workflowNamed(workflow);
  const options = createOptions(definition, parse(CreateBody, body ?? {}, ""), "");
  try {
    const instance = await bindingOf(env, definition).create(options);
    return { id: instance.id, workflow: definition.name, status: (await readStatus(instance)).status };
  } catch (error) {
    throw mapPlatformError(error, definition.name, options.id);
  }
}

export async function createBatch(env: Env, workflow: unknown, body: unknown): Promise<CreatedInstance[]> {
  const definition = workflowNamed(workflow);
  const items = parse(BatchBody, body, "body");
  const options = items.map((item, i) => createOptions(definition, item, `${i}.`));
  assertPayloadSize(options, "body");

  const ids = options.map((o) => o.id).filter((id): id is string => id !== undefined);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw invalid("instance_id", `${repeated} appears more than once in the batch`);
  // The binding skips ids that already exist without saying so; the API promises a
  // 409 instead, so check before creating anything.
  const existing = await Promise.all(ids.map((id) => exists(env, definition, id)));
  const taken = ids.filter((_, i) => existing[i]);
  if (taken.length) throw conflict(`instances of ${definition.name} already exist: ${taken.join(", ")}`);

  let created: WorkflowInstance[];
  try {
    created = await bindingOf(env, definition).createBatch(options);
  } catch (error) {
    throw mapPlatformError(error, definition.name);
  }
  if (created.length !== options.length) {
    const made = new Set(created.map((c) => c.id));
    throw conflict(`instances of ${definition.name} already exist: ${ids.filter((id) => !made.has(id)).join(", ")}`);
  }
  return Promise.all(
    created.map(async (instance) => ({
      id: instance.id,
      workflow: definition.name,
      status: (await readStatus(instance)).status,
    })),
  );
}

async function exists(env: Env, definition: WorkflowDefinition, id: string): Promise<boolean> {
  try {
    await (await bindingOf(env, definition).get(id)).status();
    return true;
  } catch (error) {
    const mapped = mapPlatformError(error, definition.name, id);
    if (mapped instanceof Error && "kind" in mapped && mapped.kind === "not_found") return false;
    throw mapped;
  }
}

export async function getInstance(env: Env, workflow: unknown, id: unknown): Promise<InstanceDetails> {
  const definition = workflowNamed(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const instance = await handle(env, definition, instanceId);
  let status: InstanceStatus;
  try {
    status = await readStatus(instance);
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
  // status() carries local-only fields; return the documented ones.
  return {
    id: instanceId,
    workflow: definition.name,
    status: status.status,
    ...(status.output != null ? { output: status.output } : {}),
    ...(status.error ? { error: { name: status.error.name, message: status.error.message } } : {}),
  };
}

/** Which current statuses each action is valid from; the binding is silent about some. */
const ALLOWED_FROM: Record<StatusAction, (s: InstanceStatusName) => boolean> = {
  pause: (s) => !FINISHED.includes(s) && s !== "paused" && s !== "waitingForPause",
  resume: (s) => s === "paused" || s === "waitingForPause",
  terminate: (s) => !FINISHED.includes(s),
  restart: () => true,
};

export async function changeStatus(env: Env, workflow: unknown, id: unknown, body: unknown): Promise<StatusChange> {
  const definition = workflowNamed(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const { status: action } = parse(StatusBody, body, "");
  const instance = await handle(env, definition, instanceId);
  try {
    const current = (await readStatus(instance)).status;
    if (!ALLOWED_FROM[action](current)) {
      throw conflict(`cannot ${action} instance ${instanceId}: it is ${current}`);
    }
    await instance[action]();
    return { id: instanceId, status: (await readStatus(instance)).status, timestamp: new Date().toISOString() };
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
}

export async function sendEvent(
  env: Env,
  workflow: unknown,
  id: unknown,
  type: unknown,
  payload: unknown,
): Promise<{ id: string; type: string }> {
  const definition = workflowNamed(workflow);
  const instanceId = parse(InstanceId, id, "instance_id");
  const eventType = parse(EventType, type, "event_type");
  assertPayloadSize(payload, "payload");
  const schema = definition.events[eventType];
  if (schema) parse(schema, payload, "payload");
  const instance = await handle(env, definition, instanceId);
  try {
    const current = (await readStatus(instance)).status;
    if (FINISHED.includes(current)) {
      throw conflict(`cannot send ${eventType} to instance ${instanceId}: it is ${current}`);
    }
    await instance.sendEvent({ type: eventType, payload });
    return { id: instanceId, type: eventType };
  } catch (error) {
    throw mapPlatformError(error, definition.name, instanceId);
  }
}
