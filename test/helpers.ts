import { exports } from "cloudflare:workers";
import type { InstanceSummary } from "../src/instances/listing";
import type { Envelope } from "../src/shared/envelope";
import type { OrderParamsInput } from "../src/workflows/order-schema";

export const API_TOKEN = "test-token-0123456789";
export const auth = { Authorization: `Bearer ${API_TOKEN}` };

/** Calls the Worker's public HTTP API through its default export, with the token. */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<{ status: number; headers: Headers; body: Envelope<T> }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await exports.default.fetch(new Request(`https://worker.test${path}`, init));
  return { status: res.status, headers: res.headers, body: (await res.json()) as Envelope<T> };
}

let counter = 0;
/** A fresh instance id per call, so tests never collide on the shared binding. */
export const uniqueId = (prefix = "t") => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** A small order that runs to completion with no approval (total below the threshold). */
export const smallOrder = (overrides: Partial<OrderParamsInput> = {}): OrderParamsInput => ({
  order_id: "ord-1",
  customer_email: "ada@example.com",
  items: [{ sku: "book", quantity: 2, unit_price_cents: 1500 }],
  settlement_seconds: 0,
  ...overrides,
});

/** The output of `smallOrder()` once fulfilled by instance `id`. */
export const fulfilledSmallOrder = (id: string) => ({
  order_id: "ord-1",
  outcome: "fulfilled",
  total_cents: 3000,
  reservation_id: `res-${id}`,
  approval: { required: false },
  payment_id: `pay-${id}`,
  shipment_id: `shp-${id}`,
});

/** An order above the approval threshold: it waits for an `approval` event. */
export const largeOrder = (overrides: Partial<OrderParamsInput> = {}): OrderParamsInput =>
  smallOrder({ items: [{ sku: "piano", quantity: 1, unit_price_cents: 250_000 }], ...overrides });

/**
 * Calls `read` every 50 ms until `accept` holds for what it returned, and returns that;
 * throws after `timeoutMs`, saying `what` and the last value read.
 */
export async function pollUntil<T, R extends T = T>(
  read: () => Promise<T>,
  accept: ((value: T) => value is R) | ((value: T) => boolean),
  what: string,
  timeoutMs: number,
): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last as R;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} within ${timeoutMs} ms (last: ${JSON.stringify(last)?.slice(0, 500)})`);
}

/** Polls the API until the instance reaches `status` (or fails after `timeoutMs`). */
export async function waitForApiStatus(workflow: string, id: string, status: string, timeoutMs = 10_000) {
  const res = await pollUntil(
    () =>
      api<{ status: string; output?: unknown; error?: unknown }>("GET", `/api/workflows/${workflow}/instances/${id}`),
    (r) => r.body.result?.status === status,
    `instance ${id} did not reach ${status}`,
    timeoutMs,
  );
  return res.body.result!;
}

/** Every instance of `workflow` the API lists as created since `since` (ISO 8601), all pages. */
export async function listedSince(workflow: string, since: string): Promise<InstanceSummary[]> {
  const all: InstanceSummary[] = [];
  for (let page = 1; ; page++) {
    const res = await api<InstanceSummary[]>(
      "GET",
      `/api/workflows/${workflow}/instances?per_page=100&page=${page}&date_start=${encodeURIComponent(since)}`,
    );
    if (res.status !== 200) throw new Error(`listing ${workflow}: ${res.status}`);
    if (res.body.result!.length === 0) return all;
    all.push(...res.body.result!);
  }
}

/** Who started each of `ids` among the listed `items`: id -> started_by. */
export const startedBy = (items: InstanceSummary[], ids: string[]) =>
  Object.fromEntries(items.filter((i) => ids.includes(i.id)).map((i) => [i.id, i.started_by]));

export { captureConsole } from "./console";
