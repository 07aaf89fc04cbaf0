import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INSTANCE_ID_PATTERN } from "../../src/instances/validation";
import * as arb from "../../test/fuzz/arbitraries";
import { expectEnvelope } from "../../test/fuzz/envelope";

/**
 * The Pages Functions under random requests, with the built Worker beside them:
 * whatever a browser sends to /rpc/*, /http/* or /worker/*, the answer is never a 5xx
 * (a 502 would mean the Worker failed behind them) and always the v4 envelope, and a
 * refused request never creates the instance it names. Paths outside the Functions
 * are static assets, which this harness does not serve.
 */
const pages = (request: Request) => exports.default.fetch(request);

interface Fuzzed {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  ids: string[];
}

const validIds = (...values: unknown[]) =>
  values.flat().filter((v): v is string => typeof v === "string" && v.length <= 100 && INSTANCE_ID_PATTERN.test(v));

function idsIn(body: string | undefined): unknown[] {
  try {
    const value = JSON.parse(body ?? "") as unknown;
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) =>
      item && typeof item === "object" ? (item as { instance_id?: unknown }).instance_id : undefined,
    );
  } catch {
    return [];
  }
}

const prefix = fc.constantFrom("/rpc/workflows", "/http/workflows", "/worker/api/workflows");
const routes: fc.Arbitrary<Omit<Fuzzed, "method" | "headers">> = fc.oneof(
  fc
    .tuple(
      prefix,
      arb.segment(arb.workflowName),
      fc.oneof(
        arb.createBody.map((b) => JSON.stringify(b)),
        arb.rawBody,
      ),
    )
    .map(([p, wf, body]) => ({ path: `${p}/${wf}/instances`, body, ids: validIds(...idsIn(body)) })),
  fc
    .tuple(
      prefix,
      arb.segment(arb.workflowName),
      fc.oneof(
        fc.array(arb.createBody, { maxLength: 4 }).map((b) => JSON.stringify(b)),
        arb.rawBody,
      ),
    )
    .map(([p, wf, body]) => ({ path: `${p}/${wf}/instances/batch`, body, ids: validIds(...idsIn(body)) })),
  fc
    .tuple(prefix, arb.segment(arb.workflowName), arb.instanceId)
    .map(([p, wf, id]) => ({ path: `${p}/${wf}/instances/${arb.encodeSegment(id)}`, ids: validIds(id) })),
  fc
    .tuple(
      prefix,
      arb.segment(arb.workflowName),
      arb.instanceId,
      fc.oneof(
        arb.statusBody.map((b) => JSON.stringify(b)),
        arb.rawBody,
      ),
    )
    .map(([p, wf, id, body]) => ({
      path: `${p}/${wf}/instances/${arb.encodeSegment(id)}/status`,
      body,
      ids: validIds(id),
    })),
  fc
    .tuple(prefix, arb.segment(arb.workflowName), arb.instanceId, arb.segment(arb.eventType), arb.rawBody)
    .map(([p, wf, id, type, body]) => ({
      path: `${p}/${wf}/instances/${arb.encodeSegment(id)}/events/${type}`,
      body,
      ids: validIds(id),
    })),
  fc
    .tuple(
      fc.constantFrom("/rpc", "/http", "/worker"),
      fc.array(
        arb.segment(
          fc.oneof(
            fc.constantFrom("workflows", "api", "instances", "..", "health", "agents"),
            fc.string({ maxLength: 10 }),
          ),
        ),
        { maxLength: 6 },
      ),
    )
    .map(([p, segments]) => ({ path: `${p}/${segments.join("/")}`, ids: [] })),
);

const fuzzed: fc.Arbitrary<Fuzzed> = fc
  .tuple(routes, arb.method, arb.extraHeaders)
  .map(([route, method, headers]) => ({ ...route, method, headers }));

/**
 * Pages routes a path to a Function only if, once normalized, it is under the
 * Function's folder with no empty segment; anything else goes to the static assets,
 * which this harness does not bind. Those requests are not sent.
 */
const reachesAFunction = (url: URL) => /^\/(rpc|http|worker)(\/|$)/.test(url.pathname) && !url.pathname.includes("//");

function toRequest(f: Fuzzed): Request | undefined {
  try {
    const hasBody = f.body !== undefined && f.method !== "GET" && f.method !== "HEAD";
    const request = new Request(`https://pages.test${f.path}`, {
      method: f.method,
      headers: f.headers,
      ...(hasBody ? { body: f.body } : {}),
    });
    return reachesAFunction(new URL(request.url)) ? request : undefined;
  } catch {
    return undefined;
  }
}

async function exists(workflow: string, id: string): Promise<boolean> {
  const res = await pages(new Request(`https://pages.test/rpc/workflows/${workflow}/instances/${id}`));
  expect([200, 404]).toContain(res.status);
  return res.status === 200;
}

describe("Pages Functions under random requests", () => {
  it("never answer 5xx or outside the envelope; refused requests create nothing", async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fuzzed, async (f) => {
        const request = toRequest(f);
        fc.pre(request !== undefined);
        sent++;
        const res = await pages(request!);
        const text = await res.text();
        expect(res.status, `${f.method} ${f.path} -> ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
        if (f.method === "HEAD" || (f.method === "OPTIONS" && res.status === 204)) return;
        expect(res.headers.get("content-type"), `${f.method} ${f.path}`).toMatch(/^application\/json/);
        let body: unknown;
        expect(() => (body = JSON.parse(text)), `${f.method} ${f.path}: ${text.slice(0, 200)}`).not.toThrow();
        expectEnvelope(res.status, body);
        if (res.status >= 400) {
          for (const id of f.ids) {
            expect(await exists("my-workflow", id), `my-workflow/${id} after ${res.status}`).toBe(false);
            expect(await exists("parent-workflow", id), `parent-workflow/${id} after ${res.status}`).toBe(false);
          }
        }
      }),
      { numRuns: 150 },
    );
    expect(sent).toBeGreaterThan(100);
  }, 90_000);
});
