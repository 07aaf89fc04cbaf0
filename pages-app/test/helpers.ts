import { exports } from "cloudflare:workers";

/** Calls the Pages Functions under test. */
export const pages = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`https://pages.test${path}`, init));

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
