import { describe, expect, inject, it } from "vitest";
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
const windowOf = (period: number) => Math.floor(Date.now() / (period * 1000));

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
      // Invalid creates spend the budget too (the limiter sits before validation). The
      // binding counts per fixed window: if one ends meanwhile, try again with a new user.
      let limited: Response | undefined;
      for (let attempt = 0; attempt < 2 && !limited; attempt++) {
        const sub = uniqueId("budget-user");
        const started = windowOf(period);
        const statuses: number[] = [];
        for (let i = 0; i < limit; i++) statuses.push((await createAs(sub, rotate(i))).status);
        expect(new Set(statuses)).toEqual(new Set([400]));
        const next = await createAs(sub, rotate(limit));
        if (windowOf(period) === started) limited = next;
      }
      expect(limited, "could not spend the budget within one rate-limit window").toBeDefined();
      expect(limited!.status).toBe(429);
      expect(limited!.headers.get("retry-after")).toBe("60");

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
    let limited: [string, Response][] | undefined;
    for (let attempt = 0; attempt < 2 && !limited; attempt++) {
      const paths = createPaths(uniqueId("budget-paths"));
      const started = windowOf(period);
      for (let i = 0; i < limit; i++) {
        const [path, send] = paths[i % paths.length]!;
        const res = await send();
        expect(res.status, path).toBeLessThan(429);
      }
      const after = await Promise.all(paths.map(async ([path, send]) => [path, await send()] as [string, Response]));
      if (windowOf(period) === started) limited = after;
    }
    expect(limited, "could not spend the budget within one rate-limit window").toBeDefined();
    for (const [path, res] of limited!) {
      expect(res.status, path).toBe(429);
      expect(res.headers.get("retry-after"), path).toBe("60");
    }
    for (const [path, send] of createPaths(uniqueId("budget-other"))) {
      expect((await send()).status, path).toBeLessThan(429);
    }
  }, 60_000);

  it("the fetch path's users do not share one budget", async () => {
    const { limit, period } = configured!;
    let statuses: { spent: number; other: number } | undefined;
    for (let attempt = 0; attempt < 2 && !statuses; attempt++) {
      const [, httpCreate] = createPaths(uniqueId("budget-http"))[2]!;
      const started = windowOf(period);
      for (let i = 0; i < limit; i++) expect((await httpCreate()).status).toBe(400);
      const spent = (await httpCreate()).status;
      const [, otherCreate] = createPaths(uniqueId("budget-http-other"))[2]!;
      const other = (await otherCreate()).status;
      if (windowOf(period) === started) statuses = { spent, other };
    }
    expect(statuses, "could not spend the budget within one rate-limit window").toBeDefined();
    expect(statuses).toEqual({ spent: 429, other: 400 });
  }, 60_000);
});
