import fc from "fast-check";

/**
 * Generators of hostile input shared by the fuzz tests of every front. Valid-looking
 * instance ids are fresh per run (a prefix plus a counter), so a test can check that
 * an id named in a refused request was never created.
 */

let counter = 0;
export const freshId = () => `fz-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** An id that passes the platform's pattern and has never been used. */
export const validFreshId = fc.constant(null).map(() => freshId());

const unicode = fc.string({ unit: "binary", maxLength: 40 });
const loneSurrogates = fc.constantFrom("\ud800", "a\udfffb", "\udbff\udc00\ud800");

/** Instance ids: valid fresh ones, and every way an id can be wrong. */
export const instanceId = fc.oneof(
  { weight: 4, arbitrary: validFreshId },
  fc.constantFrom("", " ", "-leading-dash", "has space", "dot.dot", "..", "a/b", "%00", "null", "batch"),
  fc.string({ minLength: 101, maxLength: 300, unit: fc.constantFrom("a", "b", "_", "-") }),
  unicode,
  loneSurrogates,
);

export const workflowName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("my-workflow", "parent-workflow") },
  fc.constantFrom("", "My-Workflow", "nope", "my-workflow ", "../my-workflow"),
  fc.string({ minLength: 65, maxLength: 120 }),
  unicode,
);

export const eventType = fc.oneof(
  fc.constantFrom("approval", "child-1", "x"),
  fc.constantFrom("", "has space", "é", "a/b"),
  fc.string({ minLength: 101, maxLength: 200, unit: fc.constantFrom("a", "-") }),
  unicode,
);

/** Any JSON value, of wrong types where objects are expected, with unicode keys and strings. */
export const anyJson = fc.jsonValue({ maxDepth: 4 });

/**
 * Valid MyWorkflow params, varied in every field: orders whose total stays within the
 * approval threshold, so they run to the end without an event.
 */
export const validOrder = fc.record(
  {
    order_id: fc.string({ minLength: 1, maxLength: 64 }),
    customer_email: fc
      .tuple(fc.stringMatching(/^[a-z0-9_+-]{1,20}$/), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}\.[a-z]{2,6}$/))
      .map(([local, domain]) => `${local}@${domain}`),
    items: fc.array(
      fc.record({
        sku: fc.string({ minLength: 1, maxLength: 64 }),
        quantity: fc.integer({ min: 1, max: 10 }),
        unit_price_cents: fc.integer({ min: 0, max: 1000 }),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    settlement_seconds: fc.integer({ min: 0, max: 3600 }),
  },
  { requiredKeys: ["order_id", "customer_email", "items"] },
);

/** A valid create request body: a fresh id or none, and valid params. */
export const validCreateBody = fc.record(
  { instance_id: validFreshId, params: validOrder },
  { requiredKeys: ["params"] },
);

/** Bodies that look like a create request but are wrong somewhere. */
export const createBody = fc.oneof(
  fc.record(
    {
      instance_id: fc.oneof(instanceId, anyJson),
      params: fc.oneof(
        anyJson,
        fc.record(
          {
            order_id: fc.oneof(fc.string(), anyJson),
            customer_email: fc.oneof(fc.emailAddress(), fc.string(), anyJson),
            items: fc.oneof(
              fc.array(
                fc.record({
                  sku: fc.string(),
                  quantity: fc.oneof(fc.integer(), fc.double(), fc.string()),
                  unit_price_cents: fc.oneof(fc.integer(), anyJson),
                }),
              ),
              anyJson,
            ),
            settlement_seconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
          },
          { requiredKeys: [] },
        ),
      ),
      instance_retention: anyJson,
      extra: anyJson,
    },
    { requiredKeys: [] },
  ),
  anyJson,
);

/** A status change body, mostly wrong. */
export const statusBody = fc.oneof(
  fc.record(
    { status: fc.oneof(fc.constantFrom("pause", "resume", "terminate", "restart", "PAUSE", "delete", ""), anyJson) },
    { requiredKeys: [] },
  ),
  anyJson,
);

/** Text that is not JSON, or is JSON no handler expects. */
const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
export const rawBody = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 200 }) },
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(
    "{",
    "}",
    "[",
    '{"a":',
    "nul",
    "tru",
    '"unterminated',
    "{'single':1}",
    "NaN",
    "1e999",
    "\u0000",
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{"x":1}}}',
  ),
  fc.integer({ min: 1_000, max: 100_000 }).map(deep),
  fc.integer({ min: 1_000, max: 20_000 }).map(deepObject),
  fc.jsonValue().map((v) => JSON.stringify(v)),
);

/** The Authorization header for `token`: usually right, sometimes wrong or absent. */
export const authorization = (token: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
    fc.constant(undefined),
    fc.constantFrom("Bearer", "Bearer ", `bearer ${token}`, `Bearer ${token} `, `Basic ${token}`, `Bearer ${token}x`),
    fc.string({ maxLength: 60, unit: "grapheme-ascii" }).map((s) => `Bearer ${s}`),
  );

export const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD") },
  fc.stringMatching(/^[A-Z]{1,12}$/),
);

/** Percent-encodes a segment; a lone surrogate cannot be encoded and goes raw (the URL parser replaces it). */
export function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value.replace(/[/?#%]/g, "");
  }
}

/** A path segment as a client would put it in a URL: encoded, raw, or broken encoding. */
export const segment = (value: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 4, arbitrary: value.map(encodeSegment) },
    value.map((s) => s.replace(/[/?#]/g, "")),
    fc.constantFrom("%", "%E0%A4%A", "%ED%A0%80", "%FF", "%2e%2e", "%2F", "%00"),
  );

export const extraHeaders = fc.dictionary(
  fc.constantFrom(
    "content-type",
    "origin",
    "x-forwarded-for",
    "cf-connecting-ip",
    "accept",
    "x-request-id",
    "access-control-request-method",
    "transfer-encoding-x",
  ),
  fc.oneof(
    fc.constantFrom(
      "application/json",
      "text/plain",
      "multipart/form-data; boundary=x",
      "https://evil.example",
      "POST",
      "../../etc/passwd",
    ),
    fc.string({ maxLength: 40, unit: "grapheme-ascii" }),
  ),
  { maxKeys: 4 },
);
