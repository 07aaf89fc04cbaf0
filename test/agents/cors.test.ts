import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import entry from "../../src/index";

const request = (path: string, init: RequestInit = {}) => new Request(`https://worker.test${path}`, init);
const withOrigins = (origins: string) => ({ ...env, CORS_ALLOWED_ORIGINS: origins }) as unknown as Env;

describe("CORS with the Agent's routes", () => {
  it("answers a preflight for the Agent's DELETE route from a listed origin", async () => {
    const origin = "https://dash.example.com";
    const pre = await entry.fetch(
      request("/agents/workflow-scheduler/ops/schedules/some-schedule", {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "DELETE",
          "Access-Control-Request-Headers": "authorization",
        },
      }),
      withOrigins(origin),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET,POST,PATCH,DELETE");
  });
});
