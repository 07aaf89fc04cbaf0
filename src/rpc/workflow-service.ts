import { WorkerEntrypoint } from "cloudflare:workers";
import type { z } from "zod";
import { namedClientKey, RATE_LIMITED_MESSAGE, spendCreateBudget } from "../api/rate-limit";
import type { RouteGroup } from "../api/types";
import { getStep, openEventStream, type StepQuery, type SubscribeOptions } from "../instances/instance-events";
import {
  type CreatedInstance,
  changeStatus,
  createBatch,
  createInstance,
  getInstance,
  type InstanceDetails,
  type InstanceList,
  type InstanceQuery,
  listInstances,
  type SentEvent,
  type StatusChange,
  sendEvent,
} from "../instances/instances";
import type { ListQuery } from "../instances/listing";
import type { StepOutput } from "../instances/run-history";
import type { StatusBody } from "../instances/validation";
import { listVersions, listWorkflows, type VersionInfo, type WorkflowInfo } from "../instances/workflow-info";
import { failure } from "../shared/envelope";
import { InstanceError, invalid } from "../shared/errors";
import type { Milestone } from "../shared/milestones";
import type { JsonObject, JsonValue, RpcError, RpcResult } from "../shared/rpc-result";
import { createServiceApp } from "./service-app";

/** Options for one new instance, as the HTTP API takes them (`POST .../instances`). */
export interface CreateOptions {
  instance_id?: string;
  params?: JsonValue;
  instance_retention?: { success_retention?: string | number; error_retention?: string | number };
}

/** Concrete shapes of the core's results: RPC types that mention `unknown` collapse to `never`. */
export type RpcStepOutput = Omit<StepOutput, "output"> & { output: JsonValue };
export type RpcStepQuery = z.input<typeof StepQuery>;
export type RpcWorkflowInfo = Omit<WorkflowInfo, "params_schema" | "example_params" | "events"> & {
  params_schema: JsonObject;
  example_params: JsonValue;
  events: { type: string; payload_schema: JsonObject }[];
};
/**
 * `status()`'s result: the HTTP API's `GET .../instances/:id`, including `progress` (the
 * latest milestone, or null) and `milestones` (oldest first), both plain data.
 */
export type RpcInstanceDetails = Omit<InstanceDetails, "output" | "params"> & { output: JsonValue; params: JsonValue };
/** `GET .../instances/:id`'s query: `simple` ("true" leaves `steps` out), `order` ("desc": newest step first). */
export type InstanceDetailsQuery = z.input<typeof InstanceQuery>;
export type { CreatedInstance, InstanceList, Milestone, StatusChange };

/** The HTTP API's `PATCH .../status` body: `{ status, rollback?, from? }`. */
export type StatusRequest = z.input<typeof StatusBody>;
/** The HTTP API's listing query (`status`, `page`, `per_page`, `cursor`, `direction`, `date_start`, `date_end`). */
export type ListInstancesQuery = z.input<typeof ListQuery>;

/** The response body of the seed's `createInstance(payload)`. */
export interface SeedCreateResponse {
  id: string;
  details: { status: RpcInstanceDetails["status"]; output?: JsonValue; error?: { name: string; message: string } };
}

const MY_WORKFLOW = "my-workflow";

/**
 * Workflows over a service binding (RPC). Bind it from another Worker or a Pages
 * project with `{ "binding": "WORKFLOW_SERVICE", "service": "workflows-starter",
 * "entrypoint": "WorkflowService" }`.
 *
 * src/index.ts makes the class, with the routes of the optional parts its `fetch` serves.
 * A thin adapter over src/instances: arguments are validated there exactly as for the
 * HTTP API, and every typed method resolves to an RpcResult (see ../shared/rpc-result.ts) because
 * an Error thrown across RPC keeps only its message.
 */
export function createWorkflowService(groups: readonly RouteGroup[] = []) {
  const serviceApp = createServiceApp(groups);
  return class WorkflowService extends WorkerEntrypoint<Env> {
    /** The routes of the public API without the token, for trusted callers to proxy. */
    override async fetch(request: Request): Promise<Response> {
      return serviceApp.fetch(request, this.env, this.ctx);
    }

    async listWorkflows(): Promise<RpcResult<RpcWorkflowInfo[]>> {
      // JSON Schemas and example params are JSON by construction.
      return settle(async () => (await listWorkflows(this.env)) as RpcWorkflowInfo[]);
    }

    /** The workflow's versions (REST's `GET .../versions`): the Worker version running now. */
    async listVersions(workflow: string): Promise<RpcResult<VersionInfo[]>> {
      return settle(async () => listVersions(this.env, workflow).items);
    }

    // Instances created here are recorded as started by `rpc` in the instance index.
    async create(workflow: string, options: CreateOptions = {}): Promise<RpcResult<CreatedInstance>> {
      return settle(() => createInstance(this.env, workflow, options, "rpc"));
    }

    async createBatch(workflow: string, instances: CreateOptions[]): Promise<RpcResult<CreatedInstance[]>> {
      return settle(() => createBatch(this.env, workflow, instances, "rpc"));
    }

    /**
     * Spends one create of `client`'s budget (the Worker's create rate limit, the same budget
     * its HTTP routes spend for that client): a caller that serves many users, as the Pages
     * app, calls it before each create or batch it makes for one of them, so each has a
     * budget of their own. RPC creates themselves are not limited (the Agent, the queue and
     * the cron create in bulk), so the caller decides when to spend. A 429 result when spent.
     */
    async spendCreateBudget(client: string): Promise<RpcResult<{ spent: true }>> {
      return settle(async () => {
        if (typeof client !== "string" || client === "") throw invalid("client", "must name the client");
        if (!(await spendCreateBudget(this.env, await namedClientKey(client.slice(0, 256))))) {
          throw new InstanceError("rate_limited", RATE_LIMITED_MESSAGE);
        }
        return { spent: true as const };
      });
    }

    async listInstances(workflow: string, query: ListInstancesQuery = {}): Promise<RpcResult<InstanceList>> {
      return settle(() => listInstances(this.env, workflow, query));
    }

    async status(
      workflow: string,
      id: string,
      query: InstanceDetailsQuery = {},
    ): Promise<RpcResult<RpcInstanceDetails>> {
      // Params and output are what the platform stored serialized: JSON.
      return settle(async () => (await getInstance(this.env, workflow, id, query)) as RpcInstanceDetails);
    }

    /** One step's full output or error (REST's `GET .../instances/:id/step`). */
    async step(workflow: string, id: string, query: RpcStepQuery): Promise<RpcResult<RpcStepOutput>> {
      return settle(async () => (await getStep(this.env, workflow, id, query)) as RpcStepOutput);
    }

    /**
     * The instance's events as Server-Sent Events (`GET .../instances/:id/subscribe`): a byte
     * stream crosses RPC as itself; `stream` is null when an ended instance has nothing after
     * `cursor` (the HTTP API answers 204). `lastEventId` is a reconnecting client's `Last-Event-ID`.
     */
    async subscribe(
      workflow: string,
      id: string,
      options: SubscribeOptions = {},
      lastEventId?: string,
    ): Promise<RpcResult<{ stream: ReadableStream<Uint8Array> | null }>> {
      return settle(async () => ({
        stream: (await openEventStream(this.env, workflow, id, options, lastEventId)).body,
      }));
    }

    /** Takes the HTTP API's PATCH body, so `rollback` (terminate) and `from` (restart) work here too. */
    async changeStatus(workflow: string, id: string, body: StatusRequest): Promise<RpcResult<StatusChange>> {
      return settle(() => changeStatus(this.env, workflow, id, body));
    }

    async pause(workflow: string, id: string): Promise<RpcResult<StatusChange>> {
      return this.changeStatus(workflow, id, { status: "pause" });
    }

    async resume(workflow: string, id: string): Promise<RpcResult<StatusChange>> {
      return this.changeStatus(workflow, id, { status: "resume" });
    }

    async terminate(workflow: string, id: string): Promise<RpcResult<StatusChange>> {
      return this.changeStatus(workflow, id, { status: "terminate" });
    }

    async restart(workflow: string, id: string): Promise<RpcResult<StatusChange>> {
      return this.changeStatus(workflow, id, { status: "restart" });
    }

    async sendEvent(workflow: string, id: string, type: string, payload?: JsonValue): Promise<RpcResult<SentEvent>> {
      return settle(() => sendEvent(this.env, workflow, id, type, payload));
    }

    /**
     * The method from Cloudflare's "Call Workflows from Pages" guide, with its contract:
     * creates a MY_WORKFLOW instance with `params: payload` and returns
     * `Response.json({ id, details })`. The payload goes through the instance core
     * like every other input, so one that is not valid MyWorkflow params (the guide's
     * `{ hello: "world" }` is not) gets a 400 Response with the v4 envelope naming the
     * field, instead of an instance that fails in its first step.
     */
    async createInstance(payload: JsonValue): Promise<Response> {
      try {
        const created = await createInstance(this.env, MY_WORKFLOW, { params: payload }, "rpc");
        const { status, output, error } = await getInstance(this.env, MY_WORKFLOW, created.id);
        const details: SeedCreateResponse["details"] = {
          status,
          ...(output !== undefined ? { output: output as JsonValue } : {}),
          ...(error ? { error } : {}),
        };
        return Response.json({ id: created.id, details } satisfies SeedCreateResponse);
      } catch (error) {
        const { status, code, message, field } = rpcErrorOf(error);
        return Response.json(failure(code, message, field), { status });
      }
    }
  };
}

/** The entrypoint's type, for callers that bind it (`Service<WorkflowService>`). */
export type WorkflowService = InstanceType<ReturnType<typeof createWorkflowService>>;

async function settle<T>(work: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, result: await work() };
  } catch (error) {
    return { ok: false, error: rpcErrorOf(error) };
  }
}

function rpcErrorOf(error: unknown): RpcError {
  if (error instanceof InstanceError) {
    return {
      kind: error.kind,
      status: error.status,
      code: error.code,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
    };
  }
  // A real fault: logged here with its stack, reported to the caller without internals.
  console.error("WorkflowService: unhandled error", error);
  return {
    kind: "internal",
    status: 500,
    code: 50000,
    message: "internal error in the workflows Worker (see its logs)",
  };
}
