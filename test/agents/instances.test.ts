import { describe, expect, it } from "vitest";
import type { TrackedWorkflow } from "../../src/agents/scheduler-views";
import { api, listedSince, smallOrder, startedBy, uniqueId, waitForApiStatus } from "../helpers";
import { agentPath } from "./agent-helpers";

describe("instances the Agent starts, through the instance core", () => {
  it("are listed as started by the Agent", async () => {
    const since = new Date().toISOString();
    const viaAgent = uniqueId("by-agent");
    const tracked = await api<TrackedWorkflow>("POST", agentPath(uniqueId("agent"), "/workflows"), {
      workflow: "my-workflow",
      instance_id: viaAgent,
      params: smallOrder(),
    });
    expect(tracked.status).toBe(201);
    expect(startedBy(await listedSince("my-workflow", since), [viaAgent])).toEqual({ [viaAgent]: "agent" });
    await waitForApiStatus("my-workflow", viaAgent, "complete");
  });

  it("cannot have a reserved id", async () => {
    const res = await api("POST", agentPath(uniqueId("agent"), "/workflows"), {
      workflow: "my-workflow",
      params: smallOrder(),
      instance_id: "terminate",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errors[0]!.field).toBe("instance_id");
    expect(res.body.errors[0]!.message).toMatch(/reserved/);
  });
});
