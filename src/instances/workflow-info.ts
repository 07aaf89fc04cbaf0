import { z } from "zod";
import type { ResultInfo } from "../shared/envelope";
import { notFound } from "../shared/errors";
import { instanceIndex } from "../workflows/instance-records";
import { type RegisteredWorkflow, WORKFLOWS } from "../workflows/registry";
import { requireWorkflow } from "./instances";
import { WorkflowListQuery } from "./listing";
import { parse } from "./validation";

/**
 * The workflows this Worker runs and their versions, as the Cloudflare REST API describes them
 * (`GET .../workflows`, `.../workflows/{name}`, `.../versions`), with what this Worker adds beside:
 * the binding, a description, the params and event schemas as JSON Schema, example params.
 */
export interface WorkflowInfo {
  /** REST's workflow id: here its name (one Worker, one workflow per name). */
  id: string;
  name: string;
  class_name: string;
  /** The Worker that runs it (`WORKER_NAME`, kept equal to wrangler.jsonc's `name`). */
  script_name: string;
  /** When this Worker first recorded an instance of it (its instance index began). */
  created_on: string;
  /** When the running version of the Worker was deployed. */
  modified_on: string;
  /** When its newest instance was created, or null. */
  triggered_on: string | null;
  /** Instances by status, from the instance index's kept counts (not a scan). */
  instances: Record<string, number>;
  binding: string;
  description: string;
  params_schema: Record<string, unknown>;
  example_params: unknown;
  events: { type: string; payload_schema: Record<string, unknown> }[];
}

/** A version of a workflow, as REST lists it: here the deployed version of the Worker. */
export interface VersionInfo {
  id: string;
  class_name: string;
  created_on: string;
  modified_on: string;
  has_dag: boolean;
  language: "javascript";
  workflow_id: string;
}

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

/** When the running version was deployed (the `version_metadata` binding). */
const deployedAt = (env: Env) => new Date(env.CF_VERSION_METADATA.timestamp).toISOString();

async function workflowInfo(env: Env, w: RegisteredWorkflow): Promise<WorkflowInfo> {
  // One call to the workflow's index: kept counts and two indexed lookups.
  const summary = await instanceIndex(env, w.name).summary();
  return {
    id: w.name,
    name: w.name,
    class_name: w.class_name,
    script_name: env.WORKER_NAME,
    created_on: summary.created_on ?? deployedAt(env),
    modified_on: deployedAt(env),
    triggered_on: summary.triggered_on,
    instances: summary.instances as Record<string, number>,
    binding: w.binding,
    description: w.description,
    params_schema: jsonSchema(w.params),
    example_params: w.example,
    events: Object.entries(w.events).map(([type, schema]) => ({ type, payload_schema: jsonSchema(schema) })),
  };
}

/** A page of `list`, with REST's `result_info`. */
function page<T>(list: readonly T[], query: unknown): { items: T[]; result_info: ResultInfo } {
  const { page, per_page } = parse(WorkflowListQuery, query ?? {}, "");
  const items = list.slice((page - 1) * per_page, page * per_page);
  return {
    items,
    result_info: {
      page,
      per_page,
      count: items.length,
      total_count: list.length,
      total_pages: Math.ceil(list.length / per_page),
    },
  };
}

/**
 * The workflows this Worker runs, paged like the REST API (clients that page until an empty
 * page, such as the `cloudflare` SDK, stop after the first). Costs one index call per
 * workflow on the page.
 */
export async function listWorkflowsPage(
  env: Env,
  query: unknown = {},
): Promise<{ items: WorkflowInfo[]; result_info: ResultInfo }> {
  const { items, result_info } = page(WORKFLOWS, query);
  return { items: await Promise.all(items.map((w) => workflowInfo(env, w))), result_info };
}

export async function listWorkflows(env: Env): Promise<WorkflowInfo[]> {
  return Promise.all(WORKFLOWS.map((w) => workflowInfo(env, w)));
}

export async function describeWorkflow(env: Env, name: unknown): Promise<WorkflowInfo> {
  const workflow = requireWorkflow(name);
  return workflowInfo(env, WORKFLOWS.find((w) => w.name === workflow.name)!);
}

/** A workflow has one version here: the Worker version running now (earlier ones are not kept). */
function currentVersion(env: Env, name: unknown): VersionInfo {
  const workflow = requireWorkflow(name);
  const registered = WORKFLOWS.find((w) => w.name === workflow.name)!;
  return {
    id: env.CF_VERSION_METADATA.id,
    class_name: registered.class_name,
    created_on: deployedAt(env),
    modified_on: deployedAt(env),
    has_dag: false,
    language: "javascript",
    workflow_id: registered.name,
  };
}

export function listVersions(env: Env, name: unknown, query: unknown = {}) {
  return page([currentVersion(env, name)], query);
}

export function getVersion(env: Env, name: unknown, versionId: unknown): VersionInfo {
  const version = currentVersion(env, name);
  const id = parse(z.string().min(1).max(100), versionId, "version_id");
  if (id !== version.id) throw notFound(`version ${id} of workflow ${version.workflow_id}`);
  return version;
}
