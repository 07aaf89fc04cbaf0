import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { RETRY_AFTER_SECONDS } from "../../src/api/rate-limit";
import entry from "../../src/index";
import { auth, smallOrder, uniqueId } from "../helpers";
import { rateLimitWindow, withinOneWindow } from "../rate-limit-window";

const configured = inject("createRateLimit");

/** A client address of its own per call, so each test starts with a fresh budget. */
let clients = 0;
const newClient = () => `2001:db8::${Date.now().toString(16).slice(-4)}:${(++clients).toString(16)}`;

function create(ip: string, body: unknown, path = "/api/workflows/my-workflow/instances", headers = auth) {
  return exports.default.fetch(
    new Request(`https://worker.test${path}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "cf-connecting-ip": ip },
      body: JSON.stringify(body),
    }),
  );
}

/**
 * Spends a new client's whole budget with creates that fail validation (they count: the
 * limit sits before validation), within one window.
 */
async function exhaust(): Promise<string> {
  const { limit, period } = configured!;
  const { client, statuses } = await withinOneWindow(period, async () => {
    const client = newClient();
    const statuses = [];
    for (let i = 0; i < limit; i++) statuses.push((await create(client, { instance_id: "not valid!" })).status);
    return { client, statuses };
  });
  expect(new Set(statuses)).toEqual(new Set([400]));
  return client;
}

/**
 * A client whose budget is spent in the current window, shared by the tests that need one:
 * spent again only when a new window has begun.
 */
let spent: { client: string; window: number } | undefined;
async function spentClient(): Promise<string> {
  const { period } = configured!;
  if (spent?.window !== rateLimitWindow(period)) {
    const client = await exhaust();
    spent = { client, window: rateLimitWindow(period) };
  }
  return spent.client;
}

describe("instance creation rate limit (wrangler.jsonc as configured)", () => {
  it("is configured in wrangler.jsonc", () => {
    expect(configured).toBeDefined();
    expect(configured!.limit).toBeGreaterThan(0);
    expect([10, 60]).toContain(configured!.period);
  });

  it("answers 429 with Retry-After and the v4 envelope once a client's budget is spent, creating nothing", async () => {
    const client = await spentClient();
    const id = uniqueId("limited");
    const res = await create(client, { instance_id: id, params: smallOrder() });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
    const body = await res.json();
    expect(body).toEqual({
      success: false,
      errors: [{ code: 42900, message: expect.stringContaining("too many instance creations") }],
      messages: [],
      result: null,
    });
    // Nothing reached the binding: the instance does not exist.
    await expect(env.MY_WORKFLOW.get(id)).rejects.toThrow(/not[_ ]found/i);

    const batch = await create(client, [{ params: smallOrder() }], "/api/workflows/my-workflow/instances/batch");
    expect(batch.status).toBe(429);
    expect(batch.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
  });

  it("keys the budget per client: another client is still served", async () => {
    await spentClient();
    const other = newClient();
    const id = uniqueId("other-client");
    const res = await create(other, { instance_id: id, params: smallOrder() });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { result: { id: string } }).result.id).toBe(id);
  });

  it("does not limit reads and steering, only creation", async () => {
    const client = await spentClient();
    const res = await exports.default.fetch(
      new Request("https://worker.test/api/workflows", { headers: { ...auth, "cf-connecting-ip": client } }),
    );
    expect(res.status).toBe(200);
  });

  it("does not let unauthenticated requests spend a client's budget", async () => {
    const client = newClient();
    for (let i = 0; i < configured!.limit + 5; i++) {
      const res = await create(client, { params: smallOrder() }, undefined, { Authorization: "Bearer wrong-token" });
      expect(res.status).toBe(401);
    }
    const res = await create(client, { instance_id: uniqueId("after-401s"), params: smallOrder() });
    expect(res.status).toBe(201);
  });

  it('can be switched off with CREATE_RATE_LIMIT = "off" (load tests)', async () => {
    const client = await spentClient();
    const id = uniqueId("limit-off");
    const request = new Request("https://worker.test/api/workflows/my-workflow/instances", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "cf-connecting-ip": client },
      body: JSON.stringify({ instance_id: id, params: smallOrder() }),
    });
    const res = await entry.fetch(request, { ...env, CREATE_RATE_LIMIT: "off" });
    expect(res.status).toBe(201);
  });
});
