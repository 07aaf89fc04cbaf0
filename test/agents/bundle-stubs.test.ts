// The agents SDK's modules for features this Worker does not use are stubs in the deploy
// bundle (wrangler.jsonc "alias", mirrored into Vite's resolve.alias by vitest.config.ts so
// these tests run what ships): bundle-stubs/README.md.
import { runInDurableObject } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/client";
import { newWebSocketRpcSession } from "capnweb";
import { createMimeMessage } from "mimetext";
import { describe, expect, inject, it } from "vitest";
import type { WorkflowScheduler } from "../../src/agents/workflow-scheduler";
import { uniqueId } from "../helpers";
import { connect, schedulerStub } from "./agent-helpers";

const alias = inject("bundleAlias");

// A stub's checks run while its alias line is there: deleting the line (to use the feature,
// bundle-stubs/README.md) skips them.
describe("bundle stubs", () => {
  it.runIf("@modelcontextprotocol/client" in alias)("the MCP client is the stub", () => {
    expect(() => new (Client as unknown as new () => unknown)()).toThrow(/not in this Worker's bundle/);
  });

  it.runIf("capnweb" in alias)("capnweb is the stub", () => {
    expect(() => (newWebSocketRpcSession as () => unknown)()).toThrow(/not in this Worker's bundle/);
  });

  it.runIf("mimetext" in alias)("mimetext is the stub", () => {
    expect(() => (createMimeMessage as () => unknown)()).toThrow(/not in this Worker's bundle/);
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

  it.runIf("@modelcontextprotocol/client" in alias)(
    "an MCP server cannot be added: the stub's error, and the Agent keeps working",
    async () => {
      const name = uniqueId("stubs-mcp");
      const error = await runInDurableObject(schedulerStub(name), (agent: WorkflowScheduler) =>
        agent.addMcpServer("probe", "https://mcp.example.com/mcp").then(
          () => null,
          (e: unknown) => String(e),
        ),
      );
      expect(error).toMatch(/not in this Worker's bundle/);
      expect(await schedulerStub(name).snapshot()).toEqual({ runs: [] });
    },
  );
});
