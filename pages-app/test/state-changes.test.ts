import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/shared/envelope";
import { PAGES_MAX_BODY_BYTES } from "../src/request-body";
import { json, order, pages, uniqueId } from "./helpers";

/**
 * State changes only on non-GET methods, only as same-origin JSON: another site cannot
 * drive one from a signed-in user's browser (whose Access cookie would authenticate it).
 * Every case runs as a signed-in user (a valid Access JWT), so only the rule under test
 * can refuse it.
 */
const ORIGIN = "https://pages.test";

/** How many my-workflow instances the index knows (its total_count). */
async function instanceCount(): Promise<number> {
  const res = await pages("/rpc/workflows/my-workflow/instances?per_page=1");
  expect(res.status).toBe(200);
  return ((await res.json()) as Envelope<unknown[]>).result_info!.total_count;
}

/** A create on each path that can start a workflow, with the given headers. */
const creates = (headers: Record<string, string>): [string, () => Promise<Response>][] => {
  const body = () => JSON.stringify({ instance_id: uniqueId("csrf"), params: order() });
  return [
    ["/rpc", () => pages("/rpc/workflows/my-workflow/instances", { method: "POST", headers, body: body() })],
    ["/http", () => pages("/http/workflows/my-workflow/instances", { method: "POST", headers, body: body() })],
    ["/worker", () => pages("/worker/api/workflows/my-workflow/instances", { method: "POST", headers, body: body() })],
    ["/seed/create", () => pages("/seed/create", { method: "POST", headers, body: "{}" })],
    ["/guide/create", () => pages("/guide/create", { method: "POST", headers, body: "{}" })],
    // part: agent (from here)
    [
      "/worker (Agent)",
      () =>
        pages("/worker/agents/workflow-scheduler/csrf-test/workflows", {
          method: "POST",
          headers,
          body: JSON.stringify({ workflow: "my-workflow", params: order() }),
        }),
    ],
    // part: agent (to here)
  ];
};

async function expectEnvelopeError(res: Response, status: number, message: RegExp) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Envelope<null>;
  expect(body).toMatchObject({ success: false, result: null });
  expect(body.errors[0]?.message).toMatch(message);
}

describe("a create from another site is refused, and starts nothing", () => {
  it.each<[string, Record<string, string>, number, RegExp]>([
    ["a form's text/plain", { "content-type": "text/plain" }, 415, /Content-Type: application\/json/],
    ["a form's urlencoded body", { "content-type": "application/x-www-form-urlencoded" }, 415, /application\/json/],
    ["a multipart form", { "content-type": "multipart/form-data; boundary=x" }, 415, /application\/json/],
    ["no content type", {}, 415, /application\/json/],
    ["JSON from another origin", { "content-type": "application/json", origin: "https://evil.example" }, 403, /Origin/],
    ["JSON from an opaque origin", { "content-type": "application/json", origin: "null" }, 403, /Origin/],
    [
      "JSON from another scheme of this host",
      { "content-type": "application/json", origin: "http://pages.test" },
      403,
      /Origin/,
    ],
    [
      "JSON marked cross-site",
      { "content-type": "application/json", "sec-fetch-site": "cross-site" },
      403,
      /cross-site/,
    ],
    ["JSON marked same-site", { "content-type": "application/json", "sec-fetch-site": "same-site" }, 403, /cross-site/],
    [
      "a same-origin Sec-Fetch-Site with a foreign Origin",
      { "content-type": "application/json", origin: "https://evil.example", "sec-fetch-site": "same-origin" },
      403,
      /Origin/,
    ],
  ])("%s", async (_, headers, status, message) => {
    const before = await instanceCount();
    for (const [path, send] of creates(headers)) {
      const res = await send();
      expect(res.status, path).toBe(status);
      await expectEnvelopeError(res, status, message);
    }
    expect(await instanceCount()).toBe(before);
  });
});

describe("a same-origin JSON create goes through", () => {
  it.each<[string, Record<string, string>]>([
    ["Origin equal to the app's", { "content-type": "application/json", origin: ORIGIN }],
    ["Sec-Fetch-Site: same-origin", { "content-type": "application/json", "sec-fetch-site": "same-origin" }],
    ["Sec-Fetch-Site: none (the user's own action)", { "content-type": "application/json", "sec-fetch-site": "none" }],
    ["a JSON media type with parameters", { "content-type": "Application/JSON; charset=utf-8", origin: ORIGIN }],
    // curl, scripts and servers send neither header: no browser, so no borrowed credentials.
    ["neither Origin nor Sec-Fetch-Site (not a browser)", { "content-type": "application/json" }],
  ])("%s", async (_, headers) => {
    const statuses = Object.fromEntries(
      await Promise.all(creates(headers).map(async ([path, send]) => [path, (await send()).status] as const)),
    );
    expect(statuses).toEqual({
      "/rpc": 201,
      "/http": 201,
      "/worker": 201,
      "/seed/create": 200,
      // The guide's payload is not an order: the Worker's 400, so it reached the Worker.
      "/guide/create": 400,
      "/worker (Agent)": 201, // part: agent
    });
  });
});

describe("no GET changes state", () => {
  it.each(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])(
    "%s on /seed/create and /guide/create: 405 with Allow: POST, nothing started",
    async (method) => {
      const before = await instanceCount();
      for (const path of ["/seed/create", "/guide/create"]) {
        const init: RequestInit =
          method === "GET" || method === "HEAD"
            ? { method }
            : { method, headers: { "content-type": "application/json" } };
        const res = await pages(path, init);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get("allow")).toBe("POST");
        if (method !== "HEAD") await expectEnvelopeError(res, 405, new RegExp(`${method} is not allowed here`));
      }
      expect(await instanceCount()).toBe(before);
    },
  );

  /**
   * Pages' router runs a Function for its path in any letter case and with one trailing
   * slash, so the POST-only rule must hold for those spellings too. A POST shows that the
   * router does run the create Function for each (the guide's answers with the Worker's 400,
   * the seed's starts an order).
   */
  const spellings = [
    "/guide/create/",
    "/GUIDE/Create",
    "/Guide/CREATE/",
    "/seed/create/",
    "/Seed/Create/",
    "/SEED/CREATE",
  ];

  it.each(spellings)("%s runs its create Function on POST, and on no other method", async (path) => {
    const post = await pages(path, json("POST", {}));
    const body = (await post.json()) as { id?: string; errors?: { field?: string }[] };
    if (/guide/i.test(path)) expect(body.errors?.[0]?.field, `POST ${path}`).toBe("params.order_id");
    else expect(typeof body.id, `POST ${path}`).toBe("string");

    const before = await instanceCount();
    for (const method of ["GET", "HEAD", "PUT", "DELETE", "PATCH"]) {
      const res = await pages(path, method === "GET" || method === "HEAD" ? { method } : json(method, {}));
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    }
    expect(await instanceCount()).toBe(before);
  });

  it("no spelling of a create Function's path runs it on GET (property)", async () => {
    const cases = fc.record({
      route: fc.constantFrom("/guide/create", "/seed/create"),
      upper: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      tail: fc.constantFrom("", "/", "//", "?a=1", "/?a=1", "%2F", ".html", "/x"),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ route, upper, tail }) => {
        const path = [...route].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch)).join("") + tail;
        const res = await pages(path);
        // The create Functions answer with an instance ({ id, details }) or the Worker's
        // refusal of the guide's payload (field params.order_id); the static files with HTML.
        const text = await res.text();
        expect(text, `GET ${path}`).not.toMatch(/"details"|params\.order_id/);
        expect([200, 404, 405], `GET ${path}: ${res.status}`).toContain(res.status);
      }),
      { numRuns: 40, seed: 20261205 },
    );
  });

  it("the static files answer GET and HEAD only", async () => {
    const res = await pages("/index.html", { ...json("POST", {}), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect((await pages("/", { method: "HEAD" })).status).toBe(200);
  });

  it.each(["/%00", "/js/%00.js", "/a%", "/%E0%A4%A", "/?%zz=%", "/index.html?a=%", "/?x=%00"])(
    "a static path that names no file (%s): 400",
    async (path) => {
      await expectEnvelopeError(await pages(path), 400, /malformed path or query/);
    },
  );

  // part: agent (from here)
  it("a WebSocket to the Agent opens from this origin only", async () => {
    const path = "/worker/agents/workflow-scheduler/csrf-socket";
    const upgrade = (origin: string) => pages(path, { headers: { upgrade: "websocket", origin } });
    await expectEnvelopeError(await upgrade("https://evil.example"), 403, /Origin/);
    const res = await upgrade(ORIGIN);
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close();
  });
  // part: agent (to here)
});

describe("a body over the cap is refused before anything reads it", () => {
  it.each([
    "/rpc/workflows/my-workflow/instances",
    "/worker/api/workflows/my-workflow/instances",
    "/guide/create",
    "/",
  ])("POST %s declaring more than the cap: 413, and the next create succeeds", async (path) => {
    // Declared, not sent: the refusal must come from the length alone.
    const res = await pages(path, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(PAGES_MAX_BODY_BYTES + 1) },
      body: "{}",
    });
    await expectEnvelopeError(res, path === "/" ? 405 : 413, path === "/" ? /not allowed/ : /exceeds/);
    const id = uniqueId("after-413");
    const next = await pages(
      "/rpc/workflows/my-workflow/instances",
      json("POST", { instance_id: id, params: order() }),
    );
    expect(next.status).toBe(201);
  });
});
