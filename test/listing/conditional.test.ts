import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auth, uniqueId, waitForApiStatus } from "../helpers";

const INSTANCES = "/api/workflows/restock-workflow/instances";
const get = (query: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`https://worker.test${INSTANCES}?${query}`, { headers: { ...auth, ...headers } }));

describe("conditional listing reads (ETag, If-None-Match)", () => {
  it("answers 304 with no body while the page is unchanged, and 200 with a new ETag once it changes", async () => {
    const since = encodeURIComponent(new Date().toISOString());
    const first = await get(`date_start=${since}`);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    await first.arrayBuffer();

    const again = await get(`date_start=${since}`, { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);

    const id = uniqueId("cond");
    const created = await exports.default.fetch(
      new Request(`https://worker.test${INSTANCES}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ instance_id: id, params: { skus: ["book"] } }),
      }),
    );
    expect(created.status).toBe(201);
    const changed = await get(`date_start=${since}`, { "if-none-match": etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(((await changed.json()) as { result: { id: string }[] }).result.map((i) => i.id)).toEqual([id]);
    await waitForApiStatus("restock-workflow", id, "complete");
  });
});
