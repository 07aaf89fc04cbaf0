import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { auth, uniqueId } from "../helpers";
import { withinOneWindow } from "../rate-limit-window";

/**
 * Whose create budget a request spends, on each path into the Worker, with the limit as
 * wrangler.jsonc sets it. On WorkflowService's `fetch` (service-binding callers, such as
 * the Pages app's /worker/*) it is the client the caller names in x-workflows-client,
 * whatever Authorization header comes along; on the public API it is the client the token
 * holder names the same way, or else the token and CF-Connecting-IP.
 */
const configured = inject("createRateLimit");
const invalidCreate = (headers: Record<string, string>) => ({
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify({ instance_id: "not valid!" }),
});
const PATH = "/api/workflows/my-workflow/instances";

/**
 * Sends `limit` creates with `send(i)` within one window, then one more: its status.
 * `sender()` is called per attempt, for a new client each time (`withinOneWindow`).
 */
async function statusAfterBudget(sender: () => (i: number) => Promise<Response>): Promise<number> {
  const { limit, period } = configured!;
  return withinOneWindow(period, async () => {
    const send = sender();
    for (let i = 0; i < limit; i++) expect((await send(i)).status).toBe(400);
    return (await send(limit)).status;
  });
}

describe("the create budget's key", () => {
  it("on the service path: the named client, not the Authorization header", async () => {
    const status = await statusAfterBudget(() => {
      const client = uniqueId("access:user");
      return (i) =>
        exports.WorkflowService.fetch(
          new Request(
            `https://worker.internal${PATH}`,
            invalidCreate({ [SERVICE_CLIENT_HEADER]: client, authorization: `Bearer rotated-${i}` }),
          ),
        );
    });
    expect(status).toBe(429);
    // Another named client has a budget of its own.
    const other = await exports.WorkflowService.fetch(
      new Request(
        `https://worker.internal${PATH}`,
        invalidCreate({ [SERVICE_CLIENT_HEADER]: uniqueId("access:other") }),
      ),
    );
    expect(other.status).toBe(400);
  }, 60_000);

  it("on the public API without a named client: the token and address", async () => {
    let n = 0;
    const status = await statusAfterBudget(() => {
      const ip = `2001:db8::${Date.now().toString(16).slice(-4)}:5c${++n}`;
      return (i) =>
        exports.default.fetch(
          new Request(
            `https://worker.test${PATH}`,
            invalidCreate({ ...auth, "cf-connecting-ip": ip, "x-request-id": `rotated-${i}` }),
          ),
        );
    });
    expect(status).toBe(429);
  }, 60_000);

  it("on the public API with a named client: that client's, so the users of one token holder (the Pages app's fetch path) do not share one", async () => {
    const ip = `2001:db8::${Date.now().toString(16).slice(-4)}:5d`;
    const status = await statusAfterBudget(() => {
      const client = uniqueId("access:http-user");
      return () =>
        exports.default.fetch(
          new Request(
            `https://worker.test${PATH}`,
            invalidCreate({ ...auth, "cf-connecting-ip": ip, [SERVICE_CLIENT_HEADER]: client }),
          ),
        );
    });
    expect(status).toBe(429);
    // Another user of the same token, from the same address, is still served.
    const other = await exports.default.fetch(
      new Request(
        `https://worker.test${PATH}`,
        invalidCreate({ ...auth, "cf-connecting-ip": ip, [SERVICE_CLIENT_HEADER]: uniqueId("access:http-other") }),
      ),
    );
    expect(other.status).toBe(400);
  }, 60_000);

  it("one budget per client whichever way its creates arrive: RPC's spendCreateBudget, the service path, the public API", async () => {
    const { limit, period } = configured!;
    const { after, refused } = await withinOneWindow(period, async () => {
      const client = uniqueId("access:every-path");
      for (let i = 0; i < limit; i++) {
        const spent = await exports.WorkflowService.spendCreateBudget(client);
        expect(spent).toEqual({ ok: true, result: { spent: true } });
      }
      const after = [
        await exports.WorkflowService.fetch(
          new Request(`https://worker.internal${PATH}`, invalidCreate({ [SERVICE_CLIENT_HEADER]: client })),
        ),
        await exports.default.fetch(
          new Request(`https://worker.test${PATH}`, invalidCreate({ ...auth, [SERVICE_CLIENT_HEADER]: client })),
        ),
      ];
      return { after, refused: await exports.WorkflowService.spendCreateBudget(client) };
    });
    expect(refused).toMatchObject({ ok: false, error: { kind: "rate_limited", status: 429, code: 42900 } });
    expect(after.map((res) => res.status)).toEqual([429, 429]);
  }, 60_000);
});
