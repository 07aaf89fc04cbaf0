import { describe, expect, inject, it } from "vitest";
import { RETRY_AFTER_SECONDS } from "../../src/api/rate-limit";
import type { Envelope } from "../../src/shared/envelope";
import { rateLimitWindow } from "../../test/rate-limit-window";
import { deployments, json, order, pages, pagesVia, uniqueId } from "./helpers";

/**
 * The Worker's response headers that callers act on come back through the Pages
 * Functions: `Allow` on a 405, `x-should-retry` on a 409, `Retry-After` on a 429, and
 * the Worker's `x-request-id` on every answer of the fetch path. All provoked for real,
 * against the built Worker and its real rate limiter binding.
 */
const errorsOf = async (res: Response) => ((await res.json()) as Envelope<null>).errors;

describe.each(["http", "rpc"] as const)("a wrong method on the /%s path", (path) => {
  it.each([
    ["PUT", "/workflows/my-workflow/instances", "GET, POST"],
    ["DELETE", "/workflows/my-workflow/instances/some-id", "GET"],
    ["GET", "/workflows/my-workflow/instances/some-id/status", "PATCH"],
    ["PATCH", "/workflows/my-workflow/instances/some-id/events/approval", "POST"],
    ["POST", "/workflows", "GET"],
  ])("%s %s gets the Worker's 405 with Allow: %s", async (method, route, allow) => {
    // JSON, as the dashboard sends it: any other content type is refused before the Worker.
    const init = { method, headers: { "content-type": "application/json" } };
    const res = await pages(`/${path}${route}`, init);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await errorsOf(res)).toEqual([
      { code: 40500, message: expect.stringContaining(`${method} is not allowed here`) },
    ]);

    // Exactly what the Worker answers its own callers.
    const direct = await pages(`/worker/api${route}`, init);
    expect(direct.status).toBe(405);
    expect(direct.headers.get("allow")).toBe(allow);
  });
});

describe("the fetch path (/http) relays the Worker's headers", () => {
  it("every answer carries the Worker's x-request-id", async () => {
    const id = uniqueId("reqid");
    const answers: [string, Response][] = [
      ["list", await pages("/http/workflows")],
      [
        "create",
        await pages(
          "/http/workflows/my-workflow/instances",
          json("POST", { instance_id: id, params: order("ord-headers") }),
        ),
      ],
      ["status", await pages(`/http/workflows/my-workflow/instances/${id}`)],
      ["missing", await pages(`/http/workflows/my-workflow/instances/${uniqueId("missing")}`)],
      ["invalid", await pages("/http/workflows/my-workflow/instances", json("POST", { params: { hello: "world" } }))],
      [
        "duplicate",
        await pages(
          "/http/workflows/my-workflow/instances",
          json("POST", { instance_id: id, params: order("ord-headers") }),
        ),
      ],
      ["wrong method", await pages("/http/workflows/my-workflow/instances", json("PUT", {}))],
      ["wrong token", await pagesVia(deployments.PAGES_WITH_WRONG_TOKEN, "/http/workflows")],
    ];
    expect(answers.map(([what, res]) => [what, res.status])).toEqual([
      ["list", 200],
      ["create", 201],
      ["status", 200],
      ["missing", 404],
      ["invalid", 400],
      ["duplicate", 409],
      ["wrong method", 405],
      ["wrong token", 401],
    ]);
    const ids = answers.map(([what, res]) => {
      const requestId = res.headers.get("x-request-id");
      expect(requestId, what).toMatch(/^[0-9a-f-]{36}$/);
      return requestId;
    });
    // One per request: the Worker's, not one the Pages app made up.
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(["http", "rpc"])("a 409 on /%s carries x-should-retry: false", async (path) => {
    const id = uniqueId(`no-retry-${path}`);
    const create = () =>
      pages(
        `/${path}/workflows/my-workflow/instances`,
        json("POST", { instance_id: id, params: order("ord-headers") }),
      );
    const first = await create();
    expect(first.status).toBe(201);
    expect(first.headers.get("x-should-retry")).toBeNull();
    const res = await create();
    expect(res.status).toBe(409);
    expect(res.headers.get("x-should-retry")).toBe("false");
  });

  it("keeps the Worker's own security headers to itself", async () => {
    const res = await pages("/http/workflows");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBeNull();
    expect(res.headers.get("x-frame-options")).toBeNull();
  });
});

describe("the fetch path (/http) under the Worker's create rate limit", () => {
  const configured = inject("createRateLimit");
  const limited = (path: string, init?: RequestInit) => pagesVia(deployments.PAGES_RATE_LIMITED, path, init);

  it("is the limit wrangler.jsonc configures", () => {
    expect(configured).toBeDefined();
    expect(configured!.limit).toBeGreaterThan(0);
  });

  it("answers 429 with the Worker's Retry-After once the budget is spent, creating nothing", async () => {
    const { limit, period } = configured!;
    // Spend the budget with creates that fail validation (they count: the limiter sits
    // before validation). The binding counts per fixed window: if one ends meanwhile, retry.
    let spent = false;
    for (let attempt = 0; attempt < 2 && !spent; attempt++) {
      const started = rateLimitWindow(period);
      const statuses = new Set<number>();
      for (let i = 0; i < limit; i++) {
        statuses.add(
          (await limited("/http/workflows/my-workflow/instances", json("POST", { instance_id: "not valid!" }))).status,
        );
      }
      // A later attempt finds part of the budget spent already: 429s are fine then.
      expect([...statuses].every((s) => s === 400 || (attempt > 0 && s === 429))).toBe(true);
      spent = rateLimitWindow(period) === started;
    }
    expect(spent, "could not spend the budget within one rate-limit window").toBe(true);

    const id = uniqueId("limited");
    const res = await limited(
      "/http/workflows/my-workflow/instances",
      json("POST", { instance_id: id, params: order("ord-headers") }),
    );
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      success: false,
      errors: [{ code: 42900, message: expect.stringContaining("too many instance creations") }],
      messages: [],
      result: null,
    });

    const batch = await limited(
      "/http/workflows/my-workflow/instances/batch",
      json("POST", [{ params: order("ord-headers") }]),
    );
    expect(batch.status).toBe(429);
    expect(batch.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));

    // Nothing was created, and reads are not limited.
    expect((await limited(`/http/workflows/my-workflow/instances/${id}`)).status).toBe(404);
  });
});
