import { describe, expect, inject, it } from "vitest";
import { accessToken } from "./access-tokens";
import { deployments, json, pagesVia, uniqueId } from "./helpers";

/**
 * The Worker's create rate limit through the /worker/* pass-through, against the
 * rate-limited copy of the Worker (wrangler.jsonc's limit, a limiter namespace of its
 * own). The budget belongs to the caller Cloudflare Access verified: headers the
 * browser chooses (Authorization, the client header the Worker's service path reads)
 * do not open a new one.
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
