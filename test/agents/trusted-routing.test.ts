import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TrackedWorkflow } from "../../src/agents/scheduler-views";
import type { Envelope } from "../../src/shared/envelope";
import { smallOrder, uniqueId, waitForApiStatus } from "../helpers";

/** A trusted caller: WorkflowService's `fetch` through a loopback service binding. */
const trusted = (path: string, init?: RequestInit) =>
  exports.WorkflowService.fetch(new Request(`https://worker.internal${path}`, init));

describe("the Agent through WorkflowService's fetch (trusted callers, no token)", () => {
  it("serves the Agent's routes without a token", async () => {
    const name = uniqueId("agent");
    const res = await trusted(`/agents/workflow-scheduler/${name}/workflows`, {
      method: "POST",
      body: JSON.stringify({ workflow: "my-workflow", params: smallOrder() }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Envelope<TrackedWorkflow>;
    await waitForApiStatus("my-workflow", body.result!.id, "complete");
  });

  it("upgrades to the Agent's WebSocket without a token", async () => {
    const res = await trusted(`/agents/workflow-scheduler/${uniqueId("agent")}`, { headers: { Upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    socket.accept();
    const first = await new Promise<{ type: string }>((resolve) =>
      socket.addEventListener("message", (e) => resolve(JSON.parse(String(e.data))), { once: true }),
    );
    expect(first.type).toMatch(/^cf_agent_/);
    socket.close(1000, "done");
  });

  it("validates like the public routes", async () => {
    const bad = await trusted(`/agents/workflow-scheduler/x/schedules`, { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
    expect((await trusted("/agentsx/workflow-scheduler/x")).status).toBe(404);
  });

  it("still requires the token on the public API", async () => {
    const res = await exports.default.fetch(new Request("https://worker.test/agents/workflow-scheduler/x"));
    expect(res.status).toBe(401);
  });
});
