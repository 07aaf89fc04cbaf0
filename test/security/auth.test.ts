import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import devVarsExample from "../../.dev.vars.example?raw";
import { EXAMPLE_API_TOKEN } from "../../src/api/example-token";
import entry from "../../src/index";
import { API_TOKEN, api, auth, smallOrder, uniqueId } from "../helpers";

const request = (path: string, init: RequestInit = {}) => new Request(`https://worker.test${path}`, init);

const spies: ReturnType<typeof vi.spyOn>[] = [];
afterEach(() => {
  for (const spy of spies.splice(0)) spy.mockRestore();
});

/** Captures every console line from now until the test ends; returns them joined. */
function captureConsole(): () => string {
  const lines: string[] = [];
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    const spy = vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        args
          .map((a) =>
            a instanceof Error ? `${a.name}: ${a.message}\n${a.stack}` : typeof a === "string" ? a : JSON.stringify(a),
          )
          .join(" "),
      );
    });
    spies.push(spy);
  }
  return () => lines.join("\n");
}

describe("bearer-token auth", () => {
  it("accepts exactly the configured token", async () => {
    expect((await api("GET", "/api/workflows")).status).toBe(200);
  });

  it.each([
    ["no Authorization header", {}, /missing Authorization/],
    ["a non-Bearer scheme", { Authorization: `Basic ${btoa(`user:${API_TOKEN}`)}` }, /malformed|missing/],
    ["an empty bearer token", { Authorization: "Bearer " }, /malformed|missing/],
    ["a wrong token", { Authorization: "Bearer wrong-token" }, /invalid API token/],
    ["the token with one more character", { Authorization: `Bearer ${API_TOKEN}x` }, /invalid API token/],
    ["a prefix of the token", { Authorization: `Bearer ${API_TOKEN.slice(0, -1)}` }, /invalid API token/],
    [
      "the token with its last character changed",
      { Authorization: `Bearer ${API_TOKEN.slice(0, -1)}0` },
      /invalid API token/,
    ],
  ])("refuses %s with 401 and the envelope", async (_, headers, message) => {
    const res = await api("GET", "/api/workflows", undefined, headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, result: null, messages: [] });
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]!.code).toBe(40100);
    expect(res.body.errors[0]!.message).toMatch(message);
  });

  it("refuses every token but the configured one (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64, unit: "grapheme-ascii" }), async (token) => {
        fc.pre(token !== API_TOKEN && token.trim() === token && !/\s/.test(token));
        const res = await entry.fetch(
          request("/api/workflows", { headers: { Authorization: `Bearer ${token}` } }),
          env,
        );
        expect(res.status).toBe(401);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses the whole API while API_TOKEN is unset or empty (fail closed), saying why only on a loopback host", async () => {
    const output = captureConsole();
    for (const configured of [undefined, ""]) {
      const unset = { ...env, API_TOKEN: configured } as unknown as Env;
      for (const [origin, message] of [
        ["https://worker.test", /^invalid API token$/],
        ["http://127.0.0.1:8787", /API_TOKEN is not configured/],
      ] as const) {
        for (const sent of [API_TOKEN, "undefined", "null", "x"]) {
          const id = uniqueId("no-secret");
          const res = await entry.fetch(
            new Request(`${origin}/api/workflows/my-workflow/instances`, {
              method: "POST",
              headers: { Authorization: `Bearer ${sent}`, "content-type": "application/json" },
              body: JSON.stringify({ instance_id: id, params: smallOrder() }),
            }),
            unset,
          );
          expect(res.status).toBe(401);
          const body = (await res.json()) as { errors: { message: string }[] };
          expect(body.errors[0]!.message, origin).toMatch(message);
          // Nothing was created.
          expect((await api("GET", `/api/workflows/my-workflow/instances/${id}`)).status).toBe(404);
        }
      }
      const noHeader = await entry.fetch(request("/api/workflows"), unset);
      expect(noHeader.status).toBe(401);
    }
    // The owner finds the reason in the Worker's logs.
    expect(output()).toMatch(/API_TOKEN is not configured on this Worker.*wrangler secret put API_TOKEN/);
  });

  it("serves /health without a token, and nothing else", async () => {
    const health = await entry.fetch(request("/health"), env);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ success: true, errors: [], messages: [], result: { status: "ok" } });
    for (const path of ["/api", "/api/", "/api/workflows", "/api/workflows/my-workflow/instances/x"]) {
      expect((await entry.fetch(request(path), env)).status).toBe(401);
    }
  });
});

describe("tokens never reach the logs", () => {
  it("logs neither the right nor a wrong token, on success, on refusal and on an internal fault", async () => {
    const output = captureConsole();
    const wrong = "wrong-token-SECRETLOOKING-98765";
    await entry.fetch(request("/api/workflows", { headers: auth }), env);
    await entry.fetch(request("/api/workflows", { headers: { Authorization: `Bearer ${wrong}` } }), env);
    await entry.fetch(
      request("/api/workflows/my-workflow/instances", { method: "POST", headers: auth, body: "{not json" }),
      env,
    );
    // A real fault (the binding missing) takes the 500 path, which logs the error.
    const broken = { ...env, MY_WORKFLOW: undefined } as unknown as Env;
    const fault = await entry.fetch(
      request("/api/workflows/my-workflow/instances", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ params: smallOrder() }),
      }),
      broken,
    );
    expect(fault.status).toBe(500);
    const body = (await fault.json()) as { success: boolean; errors: { code: number; message: string }[] };
    expect(body.success).toBe(false);
    expect(body.errors[0]!.message).toMatch(/^internal error \(request id [^)]+\)$/);

    const logged = output();
    expect(logged).toMatch(/unhandled error/); // the fault was logged...
    expect(logged).not.toContain(API_TOKEN); // ...without the token
    expect(logged).not.toContain(wrong);
  });
});

describe("the example token of .dev.vars.example", () => {
  /** The Worker as deployed with API_TOKEN=dev-token-change-me. */
  const withExample = { ...env, API_TOKEN: EXAMPLE_API_TOKEN } as unknown as Env;
  const example = { Authorization: `Bearer ${EXAMPLE_API_TOKEN}` };

  it("is the one .dev.vars.example holds", () => {
    expect(devVarsExample).toMatch(new RegExp(`^API_TOKEN=${EXAMPLE_API_TOKEN}$`, "m"));
  });

  it.each([
    "https://worker.test",
    "https://workflows-starter.example.workers.dev",
    "http://127.0.0.1.nip.io:8787",
    "http://localhost.evil.example",
    "http://192.168.1.20:8787",
    "http://0.0.0.0:8787",
    "http://[::2]:8787",
  ])("refuses every request to %s, telling whoever sends it how to set a real one", async (origin) => {
    const output = captureConsole();
    for (const path of [
      "/api/workflows",
      "/agents/workflow-scheduler/example-token", // part: agent
      "/client/v4/accounts/a/workflows",
    ]) {
      const res = await entry.fetch(new Request(`${origin}${path}`, { headers: example }), withExample);
      expect(res.status, `${origin}${path}`).toBe(403);
      const body = (await res.json()) as { errors: { code: number; message: string }[] };
      expect(body.errors[0]!.code).toBe(40300);
      expect(body.errors[0]!.message).toMatch(/localhost, 127\.0\.0\.1 and \[::1\].*wrangler secret put API_TOKEN/);
    }
    // Other callers get the usual 401, which says nothing about how the Worker is set up.
    for (const headers of [{}, { Authorization: "Bearer someone-elses-guess-0123456789" }] as Record<
      string,
      string
    >[]) {
      const res = await entry.fetch(new Request(`${origin}/api/workflows`, { headers }), withExample);
      expect(res.status).toBe(401);
      expect(JSON.stringify(await res.json())).not.toMatch(/example|secret put/);
    }
    // A create with it creates nothing.
    const id = uniqueId("example-token");
    const create = await entry.fetch(
      new Request(`${origin}/api/workflows/my-workflow/instances`, {
        method: "POST",
        headers: { ...example, "content-type": "application/json" },
        body: JSON.stringify({ instance_id: id, params: smallOrder() }),
      }),
      withExample,
    );
    expect(create.status).toBe(403);
    expect((await api("GET", `/api/workflows/my-workflow/instances/${id}`)).status).toBe(404);
    expect(output()).toMatch(/API_TOKEN is the public example token.*wrangler secret put API_TOKEN/);
  });

  it.each(["http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787", "http://localhost"])(
    "opens the API on this machine's loopback %s, as npm run dev serves it",
    async (origin) => {
      const res = await entry.fetch(new Request(`${origin}/api/workflows`, { headers: example }), withExample);
      expect(res.status).toBe(200);
      const wrong = await entry.fetch(
        new Request(`${origin}/api/workflows`, { headers: { Authorization: "Bearer not-the-example" } }),
        withExample,
      );
      expect(wrong.status).toBe(401);
    },
  );
});
