import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { auth, uniqueId } from "../helpers";

/**
 * Whose create budget a request spends, on each path into the Worker, with the limit as
 * wrangler.jsonc sets it. On WorkflowService's `fetch` (service-binding callers, such as
 * the Pages app's /worker/*) it is the client the caller names in x-workflows-client,
 * whatever Authorization header comes along; on the public API it is the token and
 * CF-Connecting-IP, and x-workflows-client means nothing there.
 */
const configured = inject("createRateLimit");
const windowOf = (period: number) => Math.floor(Date.now() / (period * 1000));
const invalidCreate = (headers: Record<string, string>) => ({
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify({ instance_id: "not valid!" }),
});
const PATH = "/api/workflows/my-workflow/instances";

/**
 * Sends `limit` creates with `send(i)` within one window, then one more: its status. If a
 * window boundary passed meanwhile, tries again with a new sender from `sender()` (a new
 * key: the spent requests of the first attempt may still count).
 */
async function statusAfterBudget(sender: () => (i: number) => Promise<Response>): Promise<number> {
  const { limit, period } = configured!;
  for (let attempt = 0; attempt < 2; attempt++) {
    const send = sender();
    const started = windowOf(period);
    for (let i = 0; i < limit; i++) expect((await send(i)).status).toBe(400);
    const next = await send(limit);
    if (windowOf(period) === started) return next.status;
  }
  throw new Error("could not spend a budget within one rate-limit window");
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

  it("on the public API: the token and address, whatever x-workflows-client says", async () => {
    let clients = 0;
    const status = await statusAfterBudget(() => {
      const ip = `2001:db8::${Date.now().toString(16).slice(-4)}:5c${(clients++).toString(16)}`;
      return (i) =>
        exports.default.fetch(
          new Request(
            `https://worker.test${PATH}`,
            invalidCreate({ ...auth, "cf-connecting-ip": ip, [SERVICE_CLIENT_HEADER]: `access:rotated-${i}` }),
          ),
        );
    });
    expect(status).toBe(429);
  }, 60_000);
});
