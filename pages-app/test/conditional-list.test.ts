import { describe, expect, it } from "vitest";
import { pages } from "./helpers";

/**
 * The dashboard polls one page of each workflow's instances: through both paths, the page
 * carries an ETag and a poll with If-None-Match answers 304 while nothing changed.
 */
describe.each(["/rpc/workflows", "/http/workflows"])("%s/:name/instances", (base) => {
  it("answers 304 to If-None-Match while the page is unchanged", async () => {
    // A page that cannot change under the test: instances created before the year 2000.
    const path = `${base}/my-workflow/instances?per_page=5&date_end=${encodeURIComponent("1999-12-31T23:59:59Z")}`;
    const first = await pages(path);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { result: unknown[] }).result).toEqual([]);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]+"$/);

    const again = await pages(path, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");

    const other = await pages(path, { headers: { "if-none-match": '"not-this-page"' } });
    expect(other.status).toBe(200);
    expect(other.headers.get("etag")).toBe(etag);
    await other.arrayBuffer();
  });
});
