import { env, exports } from "cloudflare:workers";
import { validAccessToken } from "./access-tokens";

/**
 * Calls the Pages Functions under test as a user signed in through Cloudflare Access
 * (a valid `Cf-Access-Jwt-Assertion`), unless `init` sets that header itself.
 */
export const pages = async (path: string, init?: RequestInit) => {
  const request = new Request(`https://pages.test${path}`, init);
  if (!request.headers.has("cf-access-jwt-assertion")) {
    request.headers.set("cf-access-jwt-assertion", await validAccessToken());
  }
  return exports.default.fetch(request);
};

/**
 * The same through another deployment of the Functions (a service binding of the test
 * runner, see vitest.config.ts), at `https://pages.test` or another `origin`.
 */
export const pagesVia = async (fetcher: Fetcher, path: string, init?: RequestInit, origin = "https://pages.test") => {
  const request = new Request(`${origin}${path}`, init);
  if (!request.headers.has("cf-access-jwt-assertion")) {
    request.headers.set("cf-access-jwt-assertion", await validAccessToken());
  }
  return fetcher.fetch(request);
};

/** The other deployments of the Functions under test, bound to the test runner. */
export const deployments = env as unknown as Record<
  | "PAGES_WITH_WRONG_TOKEN"
  | "PAGES_RATE_LIMITED"
  | "PAGES_WITHOUT_ACCESS"
  | "PAGES_LOCAL_DEV"
  | "PAGES_WITHOUT_WORKER_URL"
  | "PAGES_EMPTY_WORKER_URL"
  | "PAGES_ACCESS_DOWN"
  | "PAGES_COLD_KEYS"
  | "PAGES_HTTP_WORKER_URL"
  | "PAGES_REDIRECTED_WORKER_URL"
  | "PAGES_FOREIGN_TEAM"
  | "ACCESS_TEAM",
  Fetcher
>;

let counter = 0;
/** A fresh instance id per call; the counter is shared by every file of one runtime. */
export const uniqueId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** A small order that runs to completion without an approval. */
export const order = (order_id = "ord-pages") => ({
  order_id,
  customer_email: "ada@example.com",
  items: [{ sku: "book", quantity: 2, unit_price_cents: 1500 }],
  settlement_seconds: 0,
});

export const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
