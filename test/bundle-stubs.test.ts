// The deploy bundle replaces modules the agents SDK imports for features this Worker does
// not use with the stubs in bundle-stubs/ (wrangler.jsonc "alias", mirrored into Vite's
// resolve.alias by vitest.config.ts so these tests run what ships).
import { runInDurableObject } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/client";
import { newWebSocketRpcSession } from "capnweb";
import { describe, expect, it } from "vitest";
import * as zod from "zod";
import type { WorkflowScheduler } from "../src/agents/workflow-scheduler";
import { connect, schedulerStub } from "./agents/agent-helpers";
import { uniqueId } from "./helpers";

describe("bundle stubs", () => {
  it("are what the tests import (wrangler.jsonc's alias applies)", () => {
    expect(() => new (Client as unknown as new () => unknown)()).toThrow(/not in this Worker's bundle/);
    expect(() => (newWebSocketRpcSession as () => unknown)()).toThrow(/not in this Worker's bundle/);
    expect(Object.keys(zod.locales)).toEqual(["en"]);
    // English messages still.
    expect(zod.string().safeParse(1).error?.issues[0]?.message).toBe("Invalid input: expected string, received number");
  });

  it("an Agent starts and serves its WebSocket with them", async () => {
    const name = uniqueId("stubs");
    const client = await connect(name);
    try {
      const state = await client.waitForState(() => true);
      expect(state).toEqual({ runs: [] });
    } finally {
      client.close();
    }
  });

  it("an MCP server cannot be added: the stub's error, and the Agent keeps working", async () => {
    const name = uniqueId("stubs-mcp");
    const error = await runInDurableObject(schedulerStub(name), (agent: WorkflowScheduler) =>
      agent.addMcpServer("probe", "https://mcp.example.com/mcp").then(
        () => null,
        (e: unknown) => String(e),
      ),
    );
    expect(error).toMatch(/not in this Worker's bundle/);
    expect(await schedulerStub(name).snapshot()).toEqual({ runs: [] });
  });
});
