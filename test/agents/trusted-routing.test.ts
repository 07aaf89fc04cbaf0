import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentUpgradeRequest } from "../../src/agents/http";
import type { TrackedWorkflow } from "../../src/agents/scheduler-views";
import type { WorkflowScheduler } from "../../src/agents/workflow-scheduler";
import type { Envelope } from "../../src/shared/envelope";
import { auth, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { schedulerStub } from "./agent-helpers";

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

describe("what reaches the Agent on a WebSocket upgrade", () => {
  /** Headers and a query the agents SDK reads as its own instructions, as a client might send them. */
  const chosen = {
    "x-agents-lifecycle-props": btoa(JSON.stringify({ role: "admin" })),
    "x-cf-agents-subagent-url": "https://worker.test/agents/workflow-scheduler/someone-else",
    "x-partykit-room": "someone-else",
    "x-partykit-namespace": "workflow-scheduler",
    "x-agents-anything": "1",
    cookie: "session=1",
    authorization: auth.Authorization,
  };

  it("is the handshake's headers and the path, nothing else", () => {
    const request = agentUpgradeRequest(
      new Request("https://worker.test/agents/workflow-scheduler/a?_pk=chosen-id&x=1", {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          "sec-websocket-version": "13",
          ...chosen,
        },
      }),
    );
    expect(request.url).toBe("https://worker.test/agents/workflow-scheduler/a");
    expect(Object.fromEntries(request.headers)).toEqual({
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    });
  });

  it.each([
    [
      "the public API",
      (path: string, headers: Record<string, string>) =>
        exports.default.fetch(new Request(`https://worker.test${path}`, { headers })),
    ],
    [
      "WorkflowService's fetch",
      (path: string, headers: Record<string, string>) =>
        exports.WorkflowService.fetch(new Request(`https://worker.internal${path}`, { headers })),
    ],
  ])("through %s: a connection id a client picks (?_pk=) is not the one it gets", async (_, send) => {
    const name = uniqueId("agent");
    const res = await send(`/agents/workflow-scheduler/${name}?_pk=chosen-id`, { upgrade: "websocket", ...chosen });
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    socket.accept();
    await new Promise((resolve) => socket.addEventListener("message", resolve, { once: true }));
    const ids = await runInDurableObject(schedulerStub(name), (agent: WorkflowScheduler) =>
      [...agent.getConnections()].map((connection) => connection.id),
    );
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe("chosen-id");
    socket.close(1000, "done");
  });
});
