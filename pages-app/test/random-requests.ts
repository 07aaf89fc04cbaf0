import fc from "fast-check";

/**
 * Random requests to the Pages app's API prefixes, as a hostile client sends them: any
 * method, odd paths under the prefix (empty, dot and encoded segments, trailing slashes,
 * broken percent-encoding), wrong or missing content types, foreign origins, bodies
 * from empty to megabytes of non-JSON and JSON nested thousands deep. Shared by the
 * property test in workerd and the run against `wrangler pages dev` (e2e/pages-fuzz.mjs,
 * which imports this file directly: it must stay plain TypeScript with no imports but
 * fast-check).
 */

export type ApiPrefix = "/rpc" | "/http";

export interface RandomRequest {
  method: string;
  /** Path and query, starting with the prefix; may hold characters a URL parser rewrites. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Set when `body` is a create the Worker accepts: the id it would start. */
  validCreateId?: string;
}

/** A small order MyWorkflow runs to completion without an approval. */
export const validOrder = (order_id: string) => ({
  order_id,
  customer_email: "fuzz@example.com",
  items: [{ sku: "book", quantity: 1, unit_price_cents: 1500 }],
  settlement_seconds: 0,
});

/** The headers a same-origin browser sends on a JSON request. */
export const sameOriginJson = (origin: string) => ({
  "content-type": "application/json",
  origin,
  "sec-fetch-site": "same-origin",
});

/** A valid create of a fresh instance under `prefix`. */
export const validCreate = (prefix: ApiPrefix, id: string, origin: string): RandomRequest => ({
  method: "POST",
  path: `${prefix}/workflows/my-workflow/instances`,
  headers: sameOriginJson(origin),
  body: JSON.stringify({ instance_id: id, params: validOrder(`ord-${id}`) }),
  validCreateId: id,
});

const oddSegment = fc.constantFrom(
  "",
  ".",
  "..",
  "%2e%2e",
  "%2F",
  "%2F..%2F",
  "%00",
  "%",
  "%E0%A4%A",
  "%FF",
  "ü",
  "%C3%BC",
  "a b",
  "a%20b",
  ";x",
  "index.html",
  "batch",
  "bulk",
);
const knownSegment = fc.constantFrom(
  "workflows",
  "my-workflow",
  "parent-workflow",
  "instances",
  "status",
  "events",
  "approval",
);
const segment = fc.oneof(
  { weight: 3, arbitrary: knownSegment },
  { weight: 2, arbitrary: oddSegment },
  fc.string({ maxLength: 12, unit: "grapheme-ascii" }).map((s) => s.replace(/[/?#]/g, "")),
  fc.string({ minLength: 80, maxLength: 300, unit: fc.constantFrom("a", "-", "_") }),
);

/** A path under the prefix: a real route with an odd part, or odd segments throughout. */
const pathUnder = (prefix: ApiPrefix, id: string) =>
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          "/workflows",
          "/workflows/my-workflow",
          "/workflows/my-workflow/instances",
          "/workflows/my-workflow/instances/batch",
          "/workflows/my-workflow/instances/bulk",
          `/workflows/my-workflow/instances/${id}`,
          `/workflows/my-workflow/instances/${id}/status`,
          `/workflows/my-workflow/instances/${id}/events/approval`,
          "/workflows/nope/instances",
        ),
        fc.array(segment, { maxLength: 6 }).map((parts) => parts.map((p) => `/${p}`).join("")),
      ),
      fc.constantFrom("", "", "", "/", "//", "/%2F"),
      fc.constantFrom("", "", "?per_page=1", "?status=complete&direction=asc", "?per_page=x&page=-1", "?%zz=%"),
    )
    .map(([path, tail, query]) => `${prefix}${path}${tail}${query}`);

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    undefined,
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "json",
  ),
);

const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const body = (id: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(JSON.stringify({ instance_id: id, params: validOrder(`ord-${id}`) })) },
    fc.constantFrom(undefined, "", "{", "null", "[]", '{"status":"pause"}', '{"status":"terminate"}', "\u0000"),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.integer({ min: 1_000, max: 50_000 }).map(deep),
    // Large bodies of non-JSON: under and over the Pages app's 4 MiB cap.
    fc.constantFrom(64 * 1024, 1024 * 1024 + 1, 2 * 1024 * 1024, 5 * 1024 * 1024).map((n) => "x".repeat(n)),
  );

/**
 * One hostile request under `prefix`. `origin` is the app's own origin; `ids` gives the
 * instance ids it names (fresh ones, so a test can tell what a request created).
 */
export const randomRequest = (
  prefix: ApiPrefix,
  origin: string,
  ids: fc.Arbitrary<string>,
): fc.Arbitrary<RandomRequest> => ids.chain((id) => requestNaming(prefix, origin, id));

const requestNaming = (prefix: ApiPrefix, origin: string, id: string): fc.Arbitrary<RandomRequest> =>
  fc
    .record({
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS") },
        // Other methods an HTTP server parses (WebDAV and the like). A name no server
        // knows never reaches a Worker: workerd itself answers it with 501.
        fc.constantFrom(
          "PURGE",
          "COPY",
          "LOCK",
          "MKCOL",
          "MOVE",
          "PROPFIND",
          "PROPPATCH",
          "SEARCH",
          "UNLOCK",
          "REPORT",
        ),
      ),
      path: pathUnder(prefix, id),
      contentType,
      origin: fc.constantFrom(origin, origin, origin, undefined, "https://evil.example", "null"),
      fetchSite: fc.constantFrom("same-origin", "same-origin", undefined, "none", "cross-site", "same-site"),
      authorization: fc.constantFrom(undefined, undefined, "Bearer wrong", "Basic eA==", `Bearer ${"x".repeat(500)}`),
      body: body(id),
    })
    .map(({ method, path, contentType, origin, fetchSite, authorization, body }) => {
      const headers: Record<string, string> = {};
      if (contentType) headers["content-type"] = contentType;
      if (origin) headers.origin = origin;
      if (fetchSite) headers["sec-fetch-site"] = fetchSite;
      if (authorization) headers.authorization = authorization;
      const hasBody = body !== undefined && method !== "GET" && method !== "HEAD";
      return { method, path, headers, ...(hasBody ? { body } : {}) };
    });
