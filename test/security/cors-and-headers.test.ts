import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";
import { allowedOrigins } from "../../src/api/cors";
import type { AppEnv } from "../../src/api/types";
import entry from "../../src/index";
import { auth } from "../helpers";

const request = (path: string, init: RequestInit = {}) => new Request(`https://worker.test${path}`, init);
const preflight = (origin: string, path = "/api/workflows/my-workflow/instances") =>
  request(path, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "authorization,content-type",
    },
  });
const withOrigins = (origins: string) => ({ ...env, CORS_ALLOWED_ORIGINS: origins }) as unknown as Env;

describe("CORS policy", () => {
  it("is closed by default: no origin is granted, on preflights or on requests", async () => {
    expect(allowedOrigins(env.CORS_ALLOWED_ORIGINS).size).toBe(0);
    const pre = await entry.fetch(preflight("https://evil.example"), env);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const res = await entry.fetch(
      request("/api/workflows", { headers: { ...auth, Origin: "https://evil.example" } }),
      env,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("grants listed origins only, answering the preflight without a token", async () => {
    const configured = withOrigins(" https://dash.example.com, http://localhost:5173/ ,*");
    for (const origin of ["https://dash.example.com", "http://localhost:5173"]) {
      const pre = await entry.fetch(preflight(origin), configured);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
      // The core's methods, and those of the parts plugged in (see below).
      expect(pre.headers.get("access-control-allow-methods")?.split(",")).toEqual(
        expect.arrayContaining(["GET", "POST", "PATCH"]),
      );
      expect(pre.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type");
      expect(pre.headers.get("access-control-max-age")).toBe("600");
      expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
      expect(pre.headers.get("vary")).toMatch(/Origin/);
    }
    // "*" in the setting is ignored: it never opens the API to every origin.
    for (const origin of ["https://evil.example", "https://dash.example.com.evil.example", "null"]) {
      const pre = await entry.fetch(preflight(origin), configured);
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it("allows exactly the methods the routes answer, those of the parts plugged in included", async () => {
    const origin = "https://dash.example.com";
    const allowed = async (app: { fetch: typeof entry.fetch }) =>
      (await app.fetch(preflight(origin), withOrigins(origin))).headers.get("access-control-allow-methods")!.split(",");
    const methodsOf = (app: { routes: { method: string }[] }) =>
      [...new Set(app.routes.map((r) => r.method).filter((m) => m !== "ALL"))].sort();
    // The core alone answers GET, POST and PATCH: a preflight for anything else is refused.
    const core = createApp();
    expect((await allowed(core)).sort()).toEqual(methodsOf(core));
    expect(methodsOf(core)).toEqual(["GET", "PATCH", "POST"]);
    // A part's route with another method makes it allowed.
    const extended = createApp([
      { path: "/extra", routes: new Hono<AppEnv>().delete("/:id", (c) => c.body(null, 204)) },
    ]);
    expect((await allowed(extended)).sort()).toEqual(methodsOf(extended));
    expect(methodsOf(extended)).toContain("DELETE");
  });

  it("still requires the token on a real cross-origin request, and lets the browser read the 401", async () => {
    const configured = withOrigins("https://dash.example.com");
    const res = await entry.fetch(
      request("/api/workflows", { headers: { Origin: "https://dash.example.com" } }),
      configured,
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    const ok = await entry.fetch(
      request("/api/workflows", { headers: { ...auth, Origin: "https://dash.example.com" } }),
      configured,
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://dash.example.com");
    expect(ok.headers.get("access-control-expose-headers")).toBe("Retry-After,X-Request-Id");
  });

  it("treats an OPTIONS request that is not a preflight as an ordinary request", async () => {
    const res = await entry.fetch(
      request("/api/workflows", { method: "OPTIONS", headers: { Origin: "https://dash.example.com" } }),
      withOrigins("https://dash.example.com"),
    );
    expect(res.status).toBe(401);
    expect((await res.json()) as object).toMatchObject({ success: false });
    // An empty Origin names no origin: no preflight either (a random request sequence found the
    // fuzz test's oracle calling this one a preflight).
    const empty = await entry.fetch(
      request("/api/workflows", {
        method: "OPTIONS",
        headers: { Origin: "", "Access-Control-Request-Method": "POST" },
      }),
      withOrigins("https://dash.example.com"),
    );
    expect(empty.status).toBe(401);
  });
});

describe("security headers", () => {
  const expected = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "strict-transport-security": "max-age=15552000; includeSubDomains",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
  };

  it.each([
    ["a success", "/api/workflows", auth, 200],
    ["a refusal", "/api/workflows", {}, 401],
    ["a miss", "/api/nothing-here", auth, 404],
    ["the health check", "/health", {}, 200],
  ])("are on %s", async (_, path, headers, status) => {
    const res = await entry.fetch(request(path, { headers }), env);
    expect(res.status).toBe(status);
    for (const [name, value] of Object.entries(expected)) expect(res.headers.get(name), name).toBe(value);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("x-powered-by")).toBeNull();
  });
});

describe("the request id", () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it.each([
    ["the public API", (headers: Record<string, string>) => entry.fetch(request("/api/workflows", { headers }), env)],
    [
      "WorkflowService's fetch",
      (headers: Record<string, string>) =>
        exports.WorkflowService.fetch(new Request("https://worker.internal/api/workflows", { headers })),
    ],
  ])("on %s is made by the Worker, never taken from the request", async (_, send) => {
    for (const chosen of ["chosen-by-the-client", "00000000-0000-4000-8000-000000000000", "a=b"]) {
      const res = await send({ ...auth, "x-request-id": chosen });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-request-id")).toMatch(UUID);
      expect(res.headers.get("x-request-id")).not.toBe(chosen);
    }
  });
});
