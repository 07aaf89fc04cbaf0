import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INSTANCE_ID_PATTERN } from "../../src/workflows/platform-limits";
import * as arb from "../../test/fuzz/arbitraries";
import { expectEnvelope } from "../../test/fuzz/envelope";
import type { PagesBindings } from "../src/types";
import { accessToken, validAccessToken } from "./access-tokens";
import { deployments, order, pages, pagesVia } from "./helpers";

/**
 * The Pages Functions under random requests, with the built Worker beside them:
 * whatever a browser sends to /rpc/*, /http/* or /worker/*, the answer is never a 5xx
 * and always the v4 envelope; a refused request never creates the instance it names;
 * valid creates, mixed in, succeed and start exactly their instances; and 401 comes
 * exactly when a credential is wrong: the caller's Access token, or (on the fetch path,
 * once the Worker answers) the Pages project's API token.
 */

/** Who sends it: a signed-in user, a user of a project holding a wrong API token, or an invalid Access token. */
type Caller = "user" | "wrong-api-token" | "bad-access-token";

interface Fuzzed {
  caller: Caller;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Valid-looking ids the request names (a refused request must create none of them). */
  ids: string[];
  /** A create every check passes: it must answer 201 and start exactly `ids`. */
  valid?: true;
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
const SAME_ORIGIN_JSON = { "content-type": "application/json", origin: "https://pages.test" };

/** Creates the Worker accepts: one instance, or a batch of fresh ids. */
const validCreate: fc.Arbitrary<Omit<Fuzzed, "caller">> = fc.oneof(
  fc.tuple(prefix, arb.validFreshId).map(([p, id]) => ({
    method: "POST",
    path: `${p}/my-workflow/instances`,
    headers: SAME_ORIGIN_JSON,
    body: JSON.stringify({ instance_id: id, params: order(`ord-${id}`) }),
    ids: [id],
    valid: true as const,
  })),
  fc.tuple(prefix, fc.uniqueArray(arb.validFreshId, { minLength: 1, maxLength: 3 })).map(([p, ids]) => ({
    method: "POST",
    path: `${p}/my-workflow/instances/batch`,
    headers: SAME_ORIGIN_JSON,
    body: JSON.stringify(ids.map((id) => ({ instance_id: id, params: order(`ord-${id}`) }))),
    ids,
    valid: true as const,
  })),
);

const hostileRoute: fc.Arbitrary<Omit<Fuzzed, "method" | "headers" | "caller">> = fc.oneof(
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
            fc.constantFrom("workflows", "api", "instances", "..", "health", "agents", ""),
            fc.string({ maxLength: 10 }),
          ),
        ),
        { maxLength: 6 },
      ),
    )
    .map(([p, segments]) => ({ path: `${p}/${segments.join("/")}`, ids: [] })),
);

const hostile: fc.Arbitrary<Omit<Fuzzed, "caller">> = fc
  .tuple(hostileRoute, arb.method, fc.boolean(), arb.extraHeaders)
  .map(([route, method, sameOriginJson, extra]) => ({
    ...route,
    method,
    // Mostly what the dashboard sends, so requests get past the CSRF rule to the routes.
    headers: { ...(sameOriginJson ? SAME_ORIGIN_JSON : {}), ...extra },
  }));

const fuzzed: fc.Arbitrary<Fuzzed> = fc
  .tuple(
    fc.oneof({ weight: 2, arbitrary: validCreate }, { weight: 5, arbitrary: hostile }),
    fc.constantFrom<Caller>("user", "user", "user", "user", "wrong-api-token", "bad-access-token"),
  )
  .map(([request, caller]) => ({ ...request, caller }));

const badTokens = Promise.all([
  accessToken({ expiresIn: -10 }),
  accessToken({ key: "impostor" }),
  accessToken({ claims: { aud: ["another-app"] } }),
]);

async function send(f: Fuzzed, url: string): Promise<Response> {
  const token = f.caller === "bad-access-token" ? (await badTokens)[url.length % 3]! : await validAccessToken();
  const hasBody = f.body !== undefined && f.method !== "GET" && f.method !== "HEAD";
  const init: RequestInit = {
    method: f.method,
    headers: { ...f.headers, "cf-access-jwt-assertion": token },
    ...(hasBody ? { body: f.body } : {}),
  };
  const path = url.slice("https://pages.test".length);
  return f.caller === "wrong-api-token" ? pagesVia(deployments.PAGES_WITH_WRONG_TOKEN, path, init) : pages(path, init);
}

/** The request's URL as a client would send it, or undefined if it cannot be built. */
function urlOf(f: Fuzzed): string | undefined {
  try {
    return new Request(`https://pages.test${f.path}`, { method: f.method }).url;
  } catch {
    return undefined;
  }
}

/** The Worker beside the Functions, over the service binding they call it by. */
const worker = (env as unknown as PagesBindings).WORKFLOW_SERVICE;

/** Whether the Worker has an instance of `workflow` with this id (asked once the requests are sent). */
async function exists(workflow: string, id: string): Promise<boolean> {
  const result = await worker.status(workflow, id, { simple: "true" });
  if (!result.ok) expect(result.error.kind, `${workflow}/${id}`).toBe("not_found");
  return result.ok;
}

describe("Pages Functions under random requests", () => {
  it("never answer 5xx or outside the envelope; valid creates succeed; 401 only for a wrong credential", async () => {
    const seen = { sent: 0, validCreates: 0, workerRefusedToken: 0, badAccess: 0 };
    // Ids named by valid creates that succeeded, and by refused requests: checked at the end.
    const createdIds: string[] = [];
    const refused: { id: string; what: string }[] = [];
    await fc.assert(
      fc.asyncProperty(fuzzed, async (f) => {
        const url = urlOf(f);
        // A path such as `/rpc/..` leaves the prefixes once parsed (`/`): a static file.
        fc.pre(url !== undefined && /^\/(rpc|http|worker)(\/|$)/.test(new URL(url).pathname));
        seen.sent++;
        const res = await send(f, url!);
        const text = await res.text();
        const what = `${f.caller} ${f.method} ${f.path} -> ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, what).toBeLessThan(500);

        // 401 exactly when a credential is wrong.
        const fromWorker = res.headers.get("x-request-id") !== null;
        const onFetchPath = new URL(url!).pathname.startsWith("/http/");
        if (f.caller === "bad-access-token") {
          seen.badAccess++;
          expect(res.status, what).toBe(401);
        } else if (f.caller === "wrong-api-token" && onFetchPath && fromWorker) {
          seen.workerRefusedToken++;
          expect(res.status, what).toBe(401);
        } else {
          expect(res.status, what).not.toBe(401);
        }

        if (f.valid && f.caller === "user") {
          seen.validCreates++;
          expect(res.status, what).toBe(201);
          createdIds.push(...f.ids);
        }
        if (f.method === "HEAD" || (f.method === "OPTIONS" && res.status === 204)) return;
        expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
        let body: unknown;
        expect(() => (body = JSON.parse(text)), what).not.toThrow();
        expectEnvelope(res.status, body);
        if (res.status >= 400) refused.push(...f.ids.map((id) => ({ id, what })));
      }),
      { numRuns: 200 },
    );
    // Every valid create started its instance; no refused request started one, on either workflow.
    for (const id of createdIds) expect(await exists("my-workflow", id), `${id} after 201`).toBe(true);
    const started = await Promise.all(
      refused.flatMap(({ id, what }) =>
        ["my-workflow", "parent-workflow"].map(async (workflow) =>
          (await exists(workflow, id)) ? `${workflow}/${id} after ${what}` : [],
        ),
      ),
    );
    expect(started.flat()).toEqual([]);
    expect(refused.length, "refused requests named no instance id").toBeGreaterThan(0);
    // The properties above held for requests of every kind, not for none.
    expect(seen.sent).toBeGreaterThan(150);
    expect(seen.validCreates).toBeGreaterThan(20);
    expect(seen.workerRefusedToken).toBeGreaterThan(0);
    expect(seen.badAccess).toBeGreaterThan(10);
  }, 120_000);
});
