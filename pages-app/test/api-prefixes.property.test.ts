import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectEnvelope } from "../../test/fuzz/envelope";
import { validAccessToken } from "./access-tokens";
import { pages } from "./helpers";
import { type ApiPrefix, type RandomRequest, randomRequest, validCreate } from "./random-requests";

/**
 * Random sequences of hostile requests under the API prefixes (/rpc, /http), each
 * sequence followed by a valid create: whatever came before, every answer under the
 * prefixes is the v4 envelope with a consistent status (405 with Allow), there is no
 * 5xx but a Worker's own relayed one, and the valid create still succeeds. The same
 * generator drives e2e/pages-fuzz.mjs against `wrangler pages dev`.
 */
const ORIGIN = "https://pages.test";

let counter = 0;
const freshIds = fc.constant(null).map(() => `seq-${Date.now().toString(36)}-${(counter++).toString(36)}`);

const under = (prefix: ApiPrefix, url: string) => {
  const { pathname } = new URL(url);
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
};

async function send(request: RandomRequest): Promise<(Response & { sentTo: string }) | undefined> {
  let built: Request;
  try {
    built = new Request(`${ORIGIN}${request.path}`, {
      method: request.method,
      headers: { ...request.headers, "cf-access-jwt-assertion": await validAccessToken() },
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
  } catch {
    return undefined; // not a request a client can send (a method the Request constructor refuses)
  }
  return Object.assign(await pages(built.url.slice(ORIGIN.length), built), { sentTo: built.url });
}

/** The checks every answer under the prefixes must pass. */
async function expectWellFormed(request: RandomRequest, res: Response) {
  const text = await res.text();
  const what = `${request.method} ${request.path} -> ${res.status} ${text.slice(0, 200)}`;
  // A 5xx only as the Worker's own answer, relayed (it carries the Worker's request id).
  if (res.status >= 500) expect(res.headers.get("x-request-id"), what).not.toBeNull();
  if (res.status === 405) expect(res.headers.get("allow"), what).toBeTruthy();
  expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
  if (request.method === "HEAD") return;
  let body: unknown;
  expect(() => (body = JSON.parse(text)), what).not.toThrow();
  expectEnvelope(res.status, body);
}

describe.each<ApiPrefix>(["/rpc", "/http"])("random request sequences under %s", (prefix) => {
  it("answer every request with the envelope, and a valid create after them succeeds", async () => {
    let sequences = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(randomRequest(prefix, ORIGIN, freshIds), { minLength: 1, maxLength: 6 }),
        async (requests) => {
          sequences++;
          for (const request of requests) {
            const res = await send(request);
            // Only answers under the prefix are this app's API: a path such as
            // `/http/%2e%2e` is `/` once the URL is parsed, as every client parses it.
            if (res && under(prefix, res.sentTo)) await expectWellFormed(request, res);
            else await res?.body?.cancel();
          }
          const create = validCreate(
            prefix,
            `seq-valid-${Date.now().toString(36)}-${(counter++).toString(36)}`,
            ORIGIN,
          );
          const res = await send(create);
          const text = await res!.text();
          expect(
            res!.status,
            `valid create after ${requests.map((r) => `${r.method} ${r.path}`).join(", ")}: ${text}`,
          ).toBe(201);
        },
      ),
      // 20 sequences a run here; e2e/pages-fuzz.mjs sends 2,000 requests per prefix in CI.
      { numRuns: 20 },
    );
    expect(sequences).toBe(20);
  }, 120_000);
});
