import { exports } from "cloudflare:workers";
import Cloudflare from "cloudflare";
import { describe, expect, it } from "vitest";
import { WORKFLOWS } from "../../src/workflows/registry";
import { API_TOKEN, largeOrder, smallOrder, uniqueId } from "../helpers";
import { missingFields } from "./required-fields";

// The official SDK, unchanged, with its base URL pointed at this Worker. Its requests
// go through the Worker's default export, as they would over HTTP.
const client = new Cloudflare({
  apiToken: API_TOKEN,
  baseURL: "https://worker.test/client/v4",
  fetch: (input: string | URL | Request, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
  maxRetries: 0,
});
const account_id = "0123456789abcdef0123456789abcdef";
const workflow_name = "my-workflow";

async function waitFor(id: string, status: string) {
  for (let i = 0; i < 200; i++) {
    const instance = await client.workflows.instances.get(id, { account_id, workflow_name });
    if (instance.status === status) return instance;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} never reached ${status}`);
}

describe("the cloudflare SDK against this Worker", () => {
  it("reads the fields the SDK's types require from its own .d.ts files (so the checks below can fail)", () => {
    expect(missingFields({}, "instances", "InstanceGetResponse")).toEqual(
      expect.arrayContaining([
        "end",
        "error",
        "params",
        "queued",
        "rollback",
        "start",
        "step_count",
        "steps",
        "versionId",
      ]),
    );
    expect(missingFields({ id: "x" }, "workflows", "WorkflowListResponse")).toEqual(
      expect.arrayContaining(["class_name", "created_on", "instances", "modified_on", "script_name", "triggered_on"]),
    );
    expect(missingFields({}, "instances", "UnionMember0.Attempt")).toEqual(["end", "error", "start", "success"]);
    expect(missingFields({ instanceId: "x", timestamp: "t" }, "events", "EventCreateResponse")).toEqual([]);
  });

  it("lists and gets workflows and their versions, with every field the SDK's types require", async () => {
    const names: string[] = [];
    for await (const workflow of client.workflows.list({ account_id })) {
      expect(missingFields(workflow, "workflows", "WorkflowListResponse")).toEqual([]);
      names.push(workflow.name);
    }
    expect(names).toEqual(WORKFLOWS.map((w) => w.name));
    for (const { name, class_name } of WORKFLOWS) {
      const workflow = await client.workflows.get(name, { account_id });
      expect(missingFields(workflow, "workflows", "WorkflowGetResponse")).toEqual([]);
      expect(workflow).toMatchObject({ id: name, name, class_name, script_name: "workflows-starter" });
      const versions = [];
      for await (const version of client.workflows.versions.list(name, { account_id })) versions.push(version);
      expect(versions).toHaveLength(1);
      expect(missingFields(versions[0], "versions", "VersionListResponse")).toEqual([]);
      const version = await client.workflows.versions.get(versions[0]!.id, { account_id, workflow_name: name });
      expect(missingFields(version, "versions", "VersionGetResponse")).toEqual([]);
      expect(version).toEqual(versions[0]);
    }
  });

  it("reads an ended order's steps, each step's full output, with every field the SDK's types require", async () => {
    const id = uniqueId("sdk-steps");
    const created = await client.workflows.instances.create(workflow_name, {
      account_id,
      instance_id: id,
      params: largeOrder({ settlement_seconds: 1 }) as never,
    });
    expect(missingFields(created, "instances", "InstanceCreateResponse")).toEqual([]);
    const sent = await client.workflows.instances.events.create("approval", {
      account_id,
      workflow_name,
      instance_id: id,
      body: { approved: true, by: "sdk" },
    });
    expect(missingFields(sent, "events", "EventCreateResponse")).toEqual([]);
    const done = await waitFor(id, "complete");
    expect(missingFields(done, "instances", "InstanceGetResponse")).toEqual([]);
    const kinds = {
      step: "UnionMember0",
      rollback: "UnionMember0",
      sleep: "UnionMember1",
      termination: "UnionMember2",
      waitForEvent: "UnionMember3",
    };
    for (const step of done.steps) {
      expect(missingFields(step, "instances", `InstanceGetResponse.${kinds[step.type]}`), JSON.stringify(step)).toEqual(
        [],
      );
      if (step.type === "step") {
        for (const attempt of step.attempts)
          expect(missingFields(attempt, "instances", "UnionMember0.Attempt")).toEqual([]);
      }
    }
    // Its step.do steps with their attempts, its sleep and its wait.
    expect(done.steps.map((s) => ("name" in s ? `${s.type} ${s.name}` : s.type))).toEqual(
      expect.arrayContaining([
        "step reserve inventory-1",
        "sleep wait for payment settlement-1",
        "waitForEvent wait for approval-1",
        "step charge payment-1",
        "step create shipment-1",
      ]),
    );
    expect(done.step_count).toBe(done.steps.length);

    const charge = await client.workflows.instances.step(id, {
      account_id,
      workflow_name,
      name: "charge payment-1",
      type: "step",
    });
    expect(missingFields(charge, "instances", "InstanceStepResponse")).toEqual([]);
    expect(charge).toEqual({ status: "complete", error: null, output: `pay-${id}` });
  });

  it("creates, reads, approves by event and completes an instance", async () => {
    const id = uniqueId("sdk");
    const created = await client.workflows.instances.create(workflow_name, {
      account_id,
      instance_id: id,
      params: largeOrder() as never,
    });
    expect(created).toMatchObject({
      id,
      status: expect.any(String),
      workflow_id: workflow_name,
      version_id: expect.any(String),
    });

    await client.workflows.instances.events.create("approval", {
      account_id,
      workflow_name,
      instance_id: id,
      body: { approved: true, by: "sdk" },
    });
    const done = await waitFor(id, "complete");
    expect(done).toMatchObject({ success: true, trigger: { source: "api" }, output: { outcome: "fulfilled" } });
  });

  it("changes status: pause, resume, terminate, restart, with every field the SDK's types require", async () => {
    const id = uniqueId("sdk-status");
    await client.workflows.instances.create(workflow_name, {
      account_id,
      instance_id: id,
      params: largeOrder() as never,
    });
    const edit = (status: "pause" | "resume" | "terminate" | "restart") =>
      client.workflows.instances.status.edit(id, { account_id, workflow_name, status });
    const paused = await edit("pause");
    expect(missingFields(paused, "status", "StatusEditResponse")).toEqual([]);
    expect(paused).toMatchObject({ status: "paused", timestamp: expect.any(String) });
    expect(await edit("resume")).toMatchObject({ status: "running", timestamp: expect.any(String) });
    expect(await edit("terminate")).toMatchObject({ status: "terminated", timestamp: expect.any(String) });
    expect(await edit("restart")).toMatchObject({ status: "running", timestamp: expect.any(String) });
  });

  it("batch-creates (bulk) and lists with auto-pagination", async () => {
    const since = new Date().toISOString();
    const created = [];
    for await (const instance of client.workflows.instances.bulk(workflow_name, {
      account_id,
      body: Array.from({ length: 12 }, () => ({ params: smallOrder() as never })),
    })) {
      expect(missingFields(instance, "instances", "InstanceBulkResponse")).toEqual([]);
      created.push(instance.id);
    }
    expect(created).toHaveLength(12);

    const listed: string[] = [];
    for await (const instance of client.workflows.instances.list(workflow_name, {
      account_id,
      per_page: 5,
      date_start: since,
    })) {
      expect(missingFields(instance, "instances", "InstanceListResponse")).toEqual([]);
      expect(instance).toMatchObject({
        created_on: expect.any(String),
        status: expect.any(String),
        trigger_source: "api",
      });
      listed.push(instance.id);
    }
    expect(listed.sort()).toEqual([...created].sort());
  });

  it("surfaces 404 and 409 as the SDK's typed errors", async () => {
    await expect(client.workflows.instances.get("never-created", { account_id, workflow_name })).rejects.toBeInstanceOf(
      Cloudflare.NotFoundError,
    );
    const id = uniqueId("sdk-dup");
    await client.workflows.instances.create(workflow_name, {
      account_id,
      instance_id: id,
      params: smallOrder() as never,
    });
    const duplicate = client.workflows.instances.create(workflow_name, {
      account_id,
      instance_id: id,
      params: smallOrder() as never,
    });
    await expect(duplicate).rejects.toBeInstanceOf(Cloudflare.ConflictError);
    await expect(duplicate).rejects.toMatchObject({ status: 409, errors: [{ code: 40900 }] });
  });

  it("is refused without the right token", async () => {
    const stranger = new Cloudflare({
      apiToken: "not-the-token",
      baseURL: "https://worker.test/client/v4",
      fetch: (input: string | URL | Request, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
      maxRetries: 0,
    });
    await expect(stranger.workflows.instances.get("x", { account_id, workflow_name })).rejects.toBeInstanceOf(
      Cloudflare.AuthenticationError,
    );
  });
});
