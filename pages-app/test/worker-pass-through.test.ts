import { describe, expect, it } from "vitest";
import { forwardedToWorker } from "../src/worker-routes";
import { pages } from "./helpers";

/**
 * What /worker/* hands the Worker (WorkflowService's fetch, which trusts its caller): a
 * request built from an allow-list, never the browser's request with some headers removed.
 */
const caller = { id: "access:7335d417" };
const chosen = {
  cookie: "CF_Authorization=x; local_dev_key_8788=y",
  authorization: "Bearer guess",
  "cf-access-jwt-assertion": "x.y.z",
  "x-local-dev-key": "y",
  "x-workflows-client": "access:someone-else",
  "x-request-id": "forged; by=client",
  "x-agents-lifecycle-props": btoa(JSON.stringify({ role: "admin" })),
  "x-cf-agents-subagent-url": "https://worker/agents/workflow-scheduler/other",
  "x-partykit-room": "other",
  "x-forwarded-for": "203.0.113.9",
};

describe("the request /worker/* forwards", () => {
  it("a WebSocket upgrade: the handshake's headers and the caller, no query", () => {
    const forwarded = forwardedToWorker(
      new Request("https://pages.test/worker/agents/workflow-scheduler/a?_pk=chosen&x=1", {
        headers: {
          upgrade: "websocket",
          connection: "Upgrade",
          "sec-websocket-version": "13",
          origin: "https://pages.test",
          ...chosen,
        },
      }),
      "/agents/workflow-scheduler/a",
      caller,
    );
    expect(forwarded.url).toBe("https://pages.test/agents/workflow-scheduler/a");
    expect(Object.fromEntries(forwarded.headers)).toEqual({
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "x-workflows-client": caller.id,
    });
  });

  it("any other request: its method, body, query and content headers, and the caller", async () => {
    const forwarded = forwardedToWorker(
      new Request("https://pages.test/worker/api/workflows/my-workflow/instances?status=running", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", "if-none-match": '"e"', ...chosen },
        body: '{"a":1}',
      }),
      "/api/workflows/my-workflow/instances",
      caller,
    );
    expect(forwarded.method).toBe("POST");
    expect(forwarded.url).toBe("https://pages.test/api/workflows/my-workflow/instances?status=running");
    expect(Object.fromEntries(forwarded.headers)).toEqual({
      "content-type": "application/json",
      accept: "application/json",
      "if-none-match": '"e"',
      "x-workflows-client": caller.id,
    });
    expect(await forwarded.text()).toBe('{"a":1}');
  });

  it("an X-Request-Id a browser sends does not become the Worker's", async () => {
    const res = await pages("/worker/api/workflows", { headers: { "x-request-id": "chosen-by-the-client" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
