import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/shared/envelope";
import { deployments, json, order, pagesVia, uniqueId } from "./helpers";

/**
 * WORKER_URL has no default: deployed without it (or with it empty), the fetch path
 * answers 503 naming it, and never sends the token anywhere else. The RPC path needs no
 * URL and keeps working.
 */
describe.each([
  ["without WORKER_URL", deployments.PAGES_WITHOUT_WORKER_URL],
  ["with WORKER_URL empty", deployments.PAGES_EMPTY_WORKER_URL],
])("a Pages project %s", (_, deployment) => {
  it("answers 503 naming WORKER_URL on every /http/workflows route", async () => {
    const requests: [string, RequestInit?][] = [
      ["/http/workflows"],
      ["/http/workflows/my-workflow/instances"],
      ["/http/workflows/my-workflow/instances", json("POST", { instance_id: uniqueId("no-url"), params: order() })],
      ["/http/workflows/my-workflow/instances/some-id"],
      ["/http/workflows/my-workflow/instances/bulk", json("POST", { action: "pause", instance_ids: ["a"] })],
    ];
    for (const [path, init] of requests) {
      const res = await pagesVia(deployment, path, init);
      expect(res.status, path).toBe(503);
      expect(await res.json()).toEqual({
        success: false,
        errors: [
          {
            code: 50300,
            message: expect.stringMatching(/^WORKER_URL is not set: .*wrangler pages secret put WORKER_URL/),
          },
        ],
        messages: [],
        result: null,
      });
    }
  });

  it("keeps the RPC path and the pass-through working", async () => {
    for (const path of ["/rpc/workflows", "/worker/api/workflows"]) {
      const res = await pagesVia(deployment, path);
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as Envelope<unknown>).success).toBe(true);
    }
  });
});

describe("the API token travels only to the Worker, encrypted", () => {
  it("a WORKER_URL on plain http (not this machine's loopback) is refused: 503 naming https", async () => {
    for (const path of ["/http/workflows", "/http/workflows/my-workflow/instances"]) {
      const res = await pagesVia(deployments.PAGES_HTTP_WORKER_URL, path);
      expect(res.status, path).toBe(503);
      const body = (await res.json()) as Envelope<null>;
      expect(body.errors[0]!.message).toMatch(/^WORKER_URL is http: the API token goes only over https/);
    }
  });

  it("a redirect from WORKER_URL is not followed with the token: 502 saying so", async () => {
    const res = await pagesVia(deployments.PAGES_REDIRECTED_WORKER_URL, "/http/workflows");
    expect(res.status).toBe(502);
    const body = (await res.json()) as Envelope<null>;
    expect(body.errors[0]!.message).toMatch(/answered a redirect \(307\), not followed with the API token/);
    // The same for a create, which starts nothing.
    const id = uniqueId("redirected");
    const create = await pagesVia(
      deployments.PAGES_REDIRECTED_WORKER_URL,
      "/http/workflows/my-workflow/instances",
      json("POST", { instance_id: id, params: order() }),
    );
    expect(create.status).toBe(502);
    expect(
      (await pagesVia(deployments.PAGES_REDIRECTED_WORKER_URL, `/rpc/workflows/my-workflow/instances/${id}`)).status,
    ).toBe(404);
  });
});
