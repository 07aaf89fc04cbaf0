import { exports } from "cloudflare:workers";
import Cloudflare from "cloudflare";
import { describe, expect, it } from "vitest";
import { WORKFLOWS } from "../../src/workflows/registry";
import { API_TOKEN, largeOrder, smallOrder, uniqueId } from "../helpers";

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
  it("lists and gets workflows", async () => {
    const names: string[] = [];
    for await (const workflow of client.workflows.list({ account_id })) names.push((workflow as { name: string }).name);
    expect(names).toEqual(WORKFLOWS.map((w) => w.name));
    for (const { name, class_name } of WORKFLOWS) {
      expect(await client.workflows.get(name, { account_id })).toMatchObject({ name, class_name });
    }
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

  it("changes status: pause, resume, terminate, restart", async () => {
    const id = uniqueId("sdk-status");
    await client.workflows.instances.create(workflow_name, {
      account_id,
      instance_id: id,
      params: largeOrder() as never,
    });
    const edit = (status: "pause" | "resume" | "terminate" | "restart") =>
      client.workflows.instances.status.edit(id, { account_id, workflow_name, status });
    expect(await edit("pause")).toMatchObject({ status: "paused", timestamp: expect.any(String) });
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
      created.push(instance.id);
    }
    expect(created).toHaveLength(12);

    const listed: string[] = [];
    for await (const instance of client.workflows.instances.list(workflow_name, {
      account_id,
      per_page: 5,
      date_start: since,
    })) {
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
