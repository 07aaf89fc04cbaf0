import { describe, expect, it } from "vitest";
import { isEngineAbort, isWaitTimeout, messageOf } from "../../src/workflows/step-errors";

/**
 * The runtime's messages these helpers recognise, word for word (miniflare's Workflows engine,
 * node_modules/miniflare/dist/src/workers/workflows/binding.worker.js). A runtime that words
 * them otherwise fails here first; the order tests show the real errors are recognised
 * (an expired approval, a paused run).
 */
describe("isWaitTimeout", () => {
  it.each([
    ["on the wait itself, over RPC", new Error("WorkflowTimeoutError: Execution timed out after 1000ms")],
    ["when a replay rethrows the stored error", new Error("Execution timed out after 3600000ms")],
    ["with the name kept", Object.assign(new Error("timed out"), { name: "WorkflowTimeoutError" })],
  ])("matches the timeout %s", (_, error) => {
    expect(isWaitTimeout(error)).toBe(true);
  });

  it.each([
    ["a step's own timeout message in another form", new Error("the supplier timed out after 1000ms")],
    ["an engine abort", new Error("Aborting engine: User called pause")],
    ["a string", "Execution timed out after 1000ms"],
  ])("does not match %s", (_, error) => {
    expect(isWaitTimeout(error)).toBe(false);
  });
});

describe("isEngineAbort", () => {
  it.each([
    "Aborting engine: User called pause",
    "Aborting engine: User called terminate",
    "Aborting engine: User called restart",
    "Aborting engine: User called delete",
    "Aborting engine: Grace period complete",
  ])("matches %s", (message) => {
    expect(isEngineAbort(new Error(message))).toBe(true);
  });

  it("does not match an error of the workflow's own that mentions the engine", () => {
    expect(isEngineAbort(new Error("charge payment failed: Aborting engine: no"))).toBe(false);
    expect(isEngineAbort("Aborting engine: User called pause")).toBe(false);
  });
});

describe("messageOf", () => {
  it("drops the class name a NonRetryableError gains over RPC, and nothing else", () => {
    expect(messageOf(new Error("NonRetryableError: charge payment failed"))).toBe("charge payment failed");
    expect(messageOf(new Error("Error: NonRetryableError: x"))).toBe("Error: NonRetryableError: x");
    expect(messageOf("plain")).toBe("plain");
  });
});
