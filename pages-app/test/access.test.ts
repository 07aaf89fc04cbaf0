import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/shared/envelope";
import { accessSettings } from "../src/access";
import { localDevKey } from "../src/local-dev";
import type { PagesBindings } from "../src/types";
import {
  ACCESS_AUD,
  ACCESS_TEAM_DOMAIN,
  accessToken,
  COLD_TEAM_DOMAIN,
  LOCAL_DEV_KEY,
  UNREACHABLE_TEAM_DOMAIN,
  validAccessToken,
} from "./access-tokens";
import { deployments, json, pages, pagesVia } from "./helpers";

/**
 * The Pages app behind Cloudflare Access, as deployed: every route, the dashboard's
 * static files included, needs a valid `Cf-Access-Jwt-Assertion` (signed by the test
 * team's key, for this application, unexpired); without the Access settings every
 * request is refused; the local-only open mode opens loopback hosts only.
 */

/** One route of each kind: static files, the three API prefixes, the guide's Functions. */
const ROUTES: [string, RequestInit?][] = [
  ["/"],
  ["/dashboard.css"],
  ["/js/main.js"],
  ["/rpc/workflows"],
  ["/http/workflows"],
  ["/worker/health"],
  ["/worker/api/workflows"],
  ["/worker/agents/workflow-scheduler/access-test"], // part: agent
  ["/seed/create", json("POST", {})],
  ["/guide/create", json("POST", {})],
];

/** How many times the Functions fetched the keys of `teamDomain` so far. */
const keyFetches = async (teamDomain: string) =>
  (
    (await (
      await deployments.ACCESS_TEAM.fetch(`https://team.test/count?host=${new URL(teamDomain).host}`)
    ).json()) as { served: number }
  ).served;

const withToken = (token: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), "cf-access-jwt-assertion": token },
});

async function expectRefused(res: Response, status: number, message: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as Envelope<null>;
  expect(body).toMatchObject({ success: false, result: null, messages: [] });
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]?.message).toMatch(message);
}

describe("Cloudflare Access in front of every route", () => {
  it.each(ROUTES)("%s without a token: 401", async (path, init) => {
    await expectRefused(await pages(path, withToken("", init)), 401, /missing Cf-Access-Jwt-Assertion/);
  });

  it("a valid token opens the dashboard and the API", async () => {
    const index = await pages("/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await index.text()).toContain("<!doctype html>");
    expect((await pages("/js/main.js")).status).toBe(200);
    for (const path of ["/rpc/workflows", "/http/workflows", "/worker/api/workflows"]) {
      const res = await pages(path);
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as Envelope<unknown>).success, path).toBe(true);
    }
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ["expired", () => accessToken({ expiresIn: -60 }), /expired/],
    ["for another application (aud)", () => accessToken({ claims: { aud: ["another-app-aud"] } }), /aud claim/],
    ["without an audience", () => accessToken({ claims: { aud: undefined } }), /aud claim/],
    [
      "from another team (iss)",
      () => accessToken({ claims: { iss: "https://evil.cloudflareaccess.com" } }),
      /iss claim/,
    ],
    ["signed by another key under the team key's id", () => accessToken({ key: "impostor" }), /signature/],
    ["signed by a key the team does not have", () => accessToken({ key: "unknown-kid" }), /not signed by a key/],
    ["not yet valid (nbf)", () => accessToken({ claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }), /nbf claim/],
    ["without an expiry (exp)", () => accessToken({ claims: { exp: undefined } }), /no exp claim/],
    ["without an issue time (iat)", () => accessToken({ claims: { iat: undefined } }), /no iat claim/],
    ["without a subject", () => accessToken({ claims: { sub: undefined } }), /no subject/],
    ["malformed", async () => "not.a.jwt", /malformed/],
    [
      "signed with HS256",
      () =>
        new SignJWT({ iss: ACCESS_TEAM_DOMAIN, aud: ACCESS_AUD, sub: "x" })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("1h")
          .sign(new Uint8Array(32)),
      /algorithm/,
    ],
    [
      "unsigned (alg none)",
      async () => {
        const part = (value: object) =>
          btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
        const exp = Math.floor(Date.now() / 1000) + 3600;
        return `${part({ alg: "none" })}.${part({ iss: ACCESS_TEAM_DOMAIN, aud: ACCESS_AUD, sub: "x", exp })}.`;
      },
      /algorithm|malformed/,
    ],
  ])("a token %s: 401 on every route", async (_, token, message) => {
    const jwt = await token();
    for (const [path, init] of ROUTES) {
      await expectRefused(await pages(path, withToken(jwt, init)), 401, message);
    }
  });

  it("reads the header only, not the CF_Authorization cookie", async () => {
    const res = await pages("/rpc/workflows", {
      headers: { "cf-access-jwt-assertion": "", cookie: `CF_Authorization=${await validAccessToken()}` },
    });
    await expectRefused(res, 401, /missing Cf-Access-Jwt-Assertion/);
  });

  it("fetches the team's keys once and reuses them across requests", async () => {
    expect((await pages("/rpc/workflows")).status).toBe(200);
    const before = await keyFetches(ACCESS_TEAM_DOMAIN);
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await pages("/worker/health")).status).toBe(200);
    expect(await keyFetches(ACCESS_TEAM_DOMAIN)).toBe(before);
  });

  it("has one key fetch in flight: requests that arrive before the keys do wait for it", async () => {
    // A deployment whose isolate has not fetched its team's keys yet; they take 300 ms.
    expect(await keyFetches(COLD_TEAM_DOMAIN)).toBe(0);
    const token = await accessToken({ claims: { iss: COLD_TEAM_DOMAIN } });
    const statuses = await Promise.all(
      Array.from(
        { length: 8 },
        async () => (await pagesVia(deployments.PAGES_COLD_KEYS, "/worker/health", withToken(token))).status,
      ),
    );
    expect(statuses).toEqual(Array(8).fill(200));
    expect(await keyFetches(COLD_TEAM_DOMAIN)).toBe(1);
  });

  it("does not fetch the keys once per request while they cannot be fetched", async () => {
    const before = await keyFetches(UNREACHABLE_TEAM_DOMAIN);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => pagesVia(deployments.PAGES_ACCESS_DOWN, "/worker/health")),
    );
    expect(answers.map((res) => res.status)).toEqual(Array(8).fill(503));
    // At most one fetch for all of them (none if a failure moments ago still holds).
    expect((await keyFetches(UNREACHABLE_TEAM_DOMAIN)) - before).toBeLessThanOrEqual(1);
  });

  it("answers 503 while the team's keys cannot be fetched, and lets nobody in", async () => {
    for (const [path, init] of ROUTES) {
      await expectRefused(
        await pagesVia(deployments.PAGES_ACCESS_DOWN, path, init),
        503,
        /signing keys could not be fetched/,
      );
    }
  });
});

describe("the team domain is a Cloudflare Access team's, and nothing else", () => {
  it.each([
    ["https://myteam.cloudflareaccess.com", "https://myteam.cloudflareaccess.com"],
    ["myteam.cloudflareaccess.com", "https://myteam.cloudflareaccess.com"],
    ["https://MyTeam.CloudflareAccess.com/", "https://myteam.cloudflareaccess.com"],
  ])("%s is the team domain %s", (value, origin) => {
    expect(accessSettings({ ACCESS_TEAM_DOMAIN: value, ACCESS_AUD: "aud" } as PagesBindings)).toEqual({
      teamDomain: origin,
      audience: "aud",
    });
  });

  it.each([
    "http://myteam.cloudflareaccess.com",
    "https://myteam.cloudflareaccess.com:8443",
    "https://myteam.cloudflareaccess.com/cdn-cgi",
    "https://myteam.cloudflareaccess.com?x=1",
    "https://user@myteam.cloudflareaccess.com",
    "https://cloudflareaccess.com",
    "https://a.b.cloudflareaccess.com",
    "https://myteam.cloudflareaccess.com.evil.example",
    "https://evil.example",
    "https://myteam-cloudflareaccess.com",
    "https://-team.cloudflareaccess.com",
  ])("%s is refused", (value) => {
    expect(accessSettings({ ACCESS_TEAM_DOMAIN: value, ACCESS_AUD: "aud" } as PagesBindings)).toEqual({
      problem: expect.stringMatching(/ACCESS_TEAM_DOMAIN must be .*cloudflareaccess\.com/),
    });
  });

  it("a deployment given another host refuses every request, and fetches no keys from it", async () => {
    for (const [path, init] of ROUTES) {
      const res = await pagesVia(deployments.PAGES_FOREIGN_TEAM, path, init);
      expect(res.status, path).toBe(403);
    }
  });
});

describe("a deployment without the Access settings fails closed", () => {
  it.each(ROUTES)("%s: 403, saying nothing of how it is set up, even with a valid token", async (path, init) => {
    const res = await pagesVia(deployments.PAGES_WITHOUT_ACCESS, path, init);
    await expectRefused(res, 403, /^forbidden$/);
  });

  it("refuses a local host too: the open mode is only what LOCAL_DEV_KEY asks for", async () => {
    const res = await pagesVia(deployments.PAGES_WITHOUT_ACCESS, "/rpc/workflows", {}, "http://127.0.0.1:8788");
    await expectRefused(res, 403, /^forbidden$/);
  });
});

describe("the local-only open mode (LOCAL_DEV_KEY, as npm run dev runs)", () => {
  const local = (origin: string, path: string, init: RequestInit = {}, key: string | null = LOCAL_DEV_KEY) => {
    const request = new Request(`${origin}${path}`, init);
    if (key !== null) request.headers.set("x-local-dev-key", key);
    return deployments.PAGES_LOCAL_DEV.fetch(request);
  };
  const LOOPBACK = ["http://127.0.0.1:8788", "http://localhost:8788", "http://[::1]:8788"];

  it.each(LOOPBACK)("is open on the loopback host %s to a request carrying the key", async (origin) => {
    for (const [path, init] of ROUTES.filter(([p]) => p !== "/seed/create")) {
      const res = await local(origin, path, init);
      expect(res.status, `${origin}${path}`).toBeLessThan(401);
      if (path === "/guide/create") expect(res.status).toBe(400);
    }
  });

  it.each<[string, Record<string, string>]>([
    ["no key", {}],
    ["another key", { "x-local-dev-key": "f".repeat(64) }],
    ["the key in another port's cookie", { cookie: `local_dev_key_8789=${LOCAL_DEV_KEY}` }],
    // What a local proxy or tunnel that rewrites Host to localhost forwards: it looks local in
    // every way a client can set.
    [
      "a tunnel's request that looks local",
      { "cf-connecting-ip": "127.0.0.1", "x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1" },
    ],
  ])("refuses a loopback request with %s: 401, saying how to open it", async (_, headers) => {
    for (const origin of LOOPBACK) {
      for (const [path, init] of ROUTES) {
        const res = await local(origin, path, { ...init, headers: { ...(init?.headers as object), ...headers } }, null);
        await expectRefused(res, 401, /opens only with its key: open the address npm run dev printed/);
      }
    }
  });

  it("the address npm run dev prints sets the key's cookie, which opens the app from then on", async () => {
    const landing = await local(
      "http://127.0.0.1:8788",
      `/?agent=team-a&local_dev_key=${LOCAL_DEV_KEY}`,
      { redirect: "manual" },
      null,
    );
    expect(landing.status).toBe(303);
    expect(landing.headers.get("location")).toBe("/?agent=team-a");
    const cookie = landing.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^local_dev_key_8788=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const sent = { cookie: `theme=dark; ${cookie.split(";")[0]}` };
    for (const [path, init] of ROUTES.filter(([p]) => p !== "/seed/create")) {
      const res = await local(
        "http://127.0.0.1:8788",
        path,
        { ...init, headers: { ...(init?.headers as object), ...sent } },
        null,
      );
      expect(res.status, path).toBeLessThan(401);
    }
    // Another key in the address sets nothing.
    const wrong = await local(
      "http://127.0.0.1:8788",
      `/?local_dev_key=${"0".repeat(64)}`,
      { redirect: "manual" },
      null,
    );
    await expectRefused(wrong, 401, /opens only with its key/);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it.each([
    "https://pages.test",
    "https://workflows-starter-pages.pages.dev",
    "http://127.0.0.1.nip.io:8788",
    "http://localhost.evil.example",
    "http://192.168.1.20:8788",
    "http://0.0.0.0:8788",
  ])("refuses %s, a host that is not loopback, even with the key", async (origin) => {
    for (const [path, init] of ROUTES) {
      await expectRefused(await local(origin, path, init), 403, /opens only to localhost, 127\.0\.0\.1 or \[::1\]/);
    }
    const landing = await local(origin, `/?local_dev_key=${LOCAL_DEV_KEY}`, { redirect: "manual" }, null);
    expect(landing.headers.get("set-cookie")).toBeNull();
  });

  it("is off with a key too short to be one npm run dev made", () => {
    expect(localDevKey({ LOCAL_DEV_KEY: "true" } as PagesBindings)).toBeUndefined();
    expect(localDevKey({ LOCAL_DEV_KEY: LOCAL_DEV_KEY } as PagesBindings)).toBe(LOCAL_DEV_KEY);
  });
});
