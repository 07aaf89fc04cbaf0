import { describe, expect, inject, it } from "vitest";
import { withinOneWindow } from "../../test/rate-limit-window";
import { accessToken } from "./access-tokens";
import { deployments, json, pagesVia, uniqueId } from "./helpers";

/**
 * The Worker's create rate limit through the Pages app, against the rate-limited copy of
 * the Worker (wrangler.jsonc's limit, a limiter namespace of its own). The budget belongs to
 * the caller Cloudflare Access verified: one budget on every path that creates, and headers
 * the browser chooses (Authorization, the client header the Worker's service path reads) do
 * not open a new one.
 */
const configured = inject("createRateLimit");

/** Creates as the Access user `sub`, with headers of the caller's choosing. */
const createAs = async (sub: string, headers: Record<string, string>) =>
  pagesVia(deployments.PAGES_RATE_LIMITED, "/worker/api/workflows/my-workflow/instances", {
    ...json("POST", { instance_id: "not valid!" }),
    headers: {
      "content-type": "application/json",
      "cf-access-jwt-assertion": await accessToken({ claims: { sub } }),
      ...headers,
    },
  });

describe("the create budget through /worker/*", () => {
  it.each<[string, (i: number) => Record<string, string>]>([
    ["a new Authorization header on every request", (i) => ({ authorization: `Bearer rotated-${i}` })],
    ["a new x-workflows-client header on every request", (i) => ({ "x-workflows-client": `access:someone-${i}` })],
    ["a new CF-Connecting-IP on every request", (i) => ({ "cf-connecting-ip": `203.0.113.${i % 250}` })],
  ])(
    "is the verified user's: %s still ends in 429",
    async (_, rotate) => {
      const { limit, period } = configured!;
      // Invalid creates spend the budget too (the limiter sits before validation), each
      // attempt a new user's.
      const limited = await withinOneWindow(period, async () => {
        const sub = uniqueId("budget-user");
        const statuses: number[] = [];
        for (let i = 0; i < limit; i++) statuses.push((await createAs(sub, rotate(i))).status);
        expect(new Set(statuses)).toEqual(new Set([400]));
        return createAs(sub, rotate(limit));
      });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("60");

      // Another user has a budget of their own.
      expect((await createAs(uniqueId("budget-other"), {})).status).toBe(400);
    },
    60_000,
  );
});

/** Every way the Pages app creates, each sent by the Access user `sub` (invalid where it can be). */
const createPaths = (sub: string): [string, () => Promise<Response>][] => {
  const as = async (path: string, body: unknown) =>
    pagesVia(deployments.PAGES_RATE_LIMITED, path, {
      ...json("POST", body),
      headers: {
        "content-type": "application/json",
        "cf-access-jwt-assertion": await accessToken({ claims: { sub } }),
      },
    });
  const invalid = { instance_id: "not valid!" };
  return [
    ["/rpc create", () => as("/rpc/workflows/my-workflow/instances", invalid)],
    ["/rpc batch", () => as("/rpc/workflows/my-workflow/instances/batch", [invalid])],
    ["/http create", () => as("/http/workflows/my-workflow/instances", invalid)],
    ["/http batch", () => as("/http/workflows/my-workflow/instances/batch", [invalid])],
    ["/worker create", () => as("/worker/api/workflows/my-workflow/instances", invalid)],
    ["/guide/create", () => as("/guide/create", {})],
    ["/seed/create", () => as("/seed/create", {})],
    // part: agent (from here)
    ["/worker Agent start", () => as("/worker/agents/workflow-scheduler/budget/workflows", {})],
    ["/worker Agent schedule", () => as("/worker/agents/workflow-scheduler/budget/schedules", {})],
    // part: agent (to here)
  ];
};

describe("one create budget per caller, on every path that creates", () => {
  it("spending it on any paths ends in 429 on all of them, and another caller is still served", async () => {
    const { limit, period } = configured!;
    const limited = await withinOneWindow(period, async () => {
      const paths = createPaths(uniqueId("budget-paths"));
      for (let i = 0; i < limit; i++) {
        const [path, send] = paths[i % paths.length]!;
        const res = await send();
        expect(res.status, path).toBeLessThan(429);
      }
      return Promise.all(paths.map(async ([path, send]) => [path, await send()] as [string, Response]));
    });
    for (const [path, res] of limited) {
      expect(res.status, path).toBe(429);
      expect(res.headers.get("retry-after"), path).toBe("60");
    }
    for (const [path, send] of createPaths(uniqueId("budget-other"))) {
      expect((await send()).status, path).toBeLessThan(429);
    }
  }, 60_000);

  it("the fetch path's users do not share one budget", async () => {
    const { limit, period } = configured!;
    const statuses = await withinOneWindow(period, async () => {
      const [, httpCreate] = createPaths(uniqueId("budget-http"))[2]!;
      for (let i = 0; i < limit; i++) expect((await httpCreate()).status).toBe(400);
      const spent = (await httpCreate()).status;
      const [, otherCreate] = createPaths(uniqueId("budget-http-other"))[2]!;
      return { spent, other: (await otherCreate()).status };
    });
    expect(statuses).toEqual({ spent: 429, other: 400 });
  }, 60_000);
});
