import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_MISSES } from "../../src/instances/freshness";
import type { IndexPage, InstanceIndex } from "../../src/instances/instance-index";
import type { InstanceSummary } from "../../src/instances/listing";
import type { Envelope } from "../../src/shared/envelope";
import { instanceIndex } from "../../src/workflows/instance-records";
import { api, largeOrder, pollUntil, smallOrder, uniqueId, waitForApiStatus } from "../helpers";

const INSTANCES = "/api/workflows/my-workflow/instances";
const MINUTE = 60_000;

/** An index object of this test's own (the storage is private; statuses come from MY_WORKFLOW). */
const privateIndex = () => env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName(uniqueId("idx")));

/** When the index last learned each row's status: an advance means a read from the binding. */
const checkedAt = (stub: DurableObjectStub<InstanceIndex>) =>
  runInDurableObject(stub, (_index, state) =>
    Object.fromEntries(
      state.storage.sql
        .exec("SELECT id, checked_at FROM instances")
        .toArray()
        .map((r) => [r.id as string, r.checked_at as number]),
    ),
  );
const advanced = (before: Record<string, number>, after: Record<string, number>) =>
  Object.keys(after).filter((id) => after[id] !== before[id]);

/** Unfinished instances of MY_WORKFLOW, created through the binding (each waits for approval). */
async function waitingInstances(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uniqueId("wait"));
  for (let i = 0; i < ids.length; i += 100) {
    const { created } = await env.MY_WORKFLOW.createBatch({
      instances: ids.slice(i, i + 100).map((id) => ({ id, params: largeOrder() })),
    });
    expect(created).toHaveLength(Math.min(100, ids.length - i));
  }
  return ids;
}

async function listed(query: string) {
  const res = await api<InstanceSummary[]>("GET", `${INSTANCES}?${query}`);
  expect(res.status).toBe(200);
  return res.body as Envelope<InstanceSummary[]> & { result_info: { total_count: number } };
}

describe("listing freshness: a page costs one page of work", () => {
  it("reads from the binding at most the statuses of the page it returns, however many instances are unfinished", async () => {
    const ids = await waitingInstances(30);
    const index = privateIndex();
    await index.record(
      "my-workflow",
      ids.map((id) => ({ id, trigger: "api" as const, status: "running" })),
    );
    const before = await checkedAt(index);

    // Ten minutes on, every row is due for a read (an index that ran ahead of its readers).
    const page: IndexPage = await index.list(
      "my-workflow",
      { page: 1, per_page: 5, direction: "desc" },
      Date.now() + 10 * MINUTE,
    );
    const read = advanced(before, await checkedAt(index));
    expect(page.rows).toHaveLength(5);
    expect(read.length).toBeLessThanOrEqual(5);
    expect(page.reads).toBe(read.length);
    // The rows read are the rows shown.
    expect(read.sort()).toEqual(page.rows.map((r) => r.id).sort());
    expect(page.total).toBe(30);
  });

  it("marks an instance the binding no longer knows after a bounded number of failed reads, and never reads it again", async () => {
    const [kept, removed] = await waitingInstances(2);
    const index = privateIndex();
    await index.record(
      "my-workflow",
      [kept!, removed!].map((id) => ({ id, trigger: "api" as const, status: "running" })),
    );
    // Removed outside this Worker (as a short instance_retention would).
    expect((await env.MY_WORKFLOW.deleteBatch([removed!])).deleted).toEqual([{ id: removed }]);

    const readsOfRemoved: boolean[] = [];
    const statuses: string[] = [];
    const t0 = Date.now();
    for (let i = 1; i <= MAX_MISSES + 3; i++) {
      const before = await checkedAt(index);
      const page = await index.list("my-workflow", { page: 1, per_page: 10, direction: "desc" }, t0 + i * 10 * MINUTE);
      const read = advanced(before, await checkedAt(index));
      readsOfRemoved.push(read.includes(removed!));
      expect(read).toContain(kept);
      statuses.push(page.rows.find((r) => r.id === removed)!.status);
    }
    expect(readsOfRemoved).toEqual([
      ...Array.from({ length: MAX_MISSES }, () => true),
      ...Array.from({ length: 3 }, () => false),
    ]);
    expect(statuses.slice(MAX_MISSES - 1)).toEqual(Array.from({ length: 4 }, () => "unknown"));
  });

  it("keeps the status filter right for instances paused, resumed, terminated and completed through this Worker", async () => {
    const since = new Date().toISOString();
    const [paused, resumed, terminated] = [uniqueId("fp"), uniqueId("fr"), uniqueId("ft")];
    for (const id of [paused, resumed, terminated])
      expect((await api("POST", INSTANCES, { instance_id: id, params: largeOrder() })).status).toBe(201);
    const completed = uniqueId("fc");
    expect((await api("POST", INSTANCES, { instance_id: completed, params: smallOrder() })).status).toBe(201);

    for (const [id, action] of [
      [paused, "pause"],
      [resumed, "pause"],
      [resumed, "resume"],
      [terminated, "terminate"],
    ] as const) {
      expect((await api("PATCH", `${INSTANCES}/${id}/status`, { status: action })).status).toBe(200);
    }
    // Completion is learned from the instance's own `complete` milestone, a resume that
    // answered `queued` from the index's follow-up read: poll the listing (never the
    // instances themselves, whose reads would store their statuses too).
    const q = `per_page=100&date_start=${encodeURIComponent(since)}`;
    const ids = async (status: string) => (await listed(`${q}&status=${status}`)).result!.map((i) => i.id).sort();
    const byStatus = async () => ({
      complete: await ids("complete"),
      paused: await ids("paused"),
      terminated: await ids("terminated"),
      running: await ids("running"),
    });
    const expected = { complete: [completed], paused: [paused], terminated: [terminated], running: [resumed] };
    const seen = await pollUntil(
      byStatus,
      (s) => JSON.stringify(s) === JSON.stringify(expected),
      "the status filter never agreed with the changes made",
      15_000,
    );
    expect(seen).toEqual(expected);
    // Other files' instances (an Agent's schedule firing) may fall in the range: count ours, and
    // hold total_count to the rows listed.
    const all = await listed(q);
    const mine = [paused, resumed, terminated, completed];
    expect(
      all
        .result!.filter((i) => mine.includes(i.id))
        .map((i) => i.id)
        .sort(),
    ).toEqual([...mine].sort());
    expect(all.result_info.total_count).toBe(all.result!.length);
    expect(all.result!.find((i) => i.id === terminated)!.ended_on).toEqual(expect.any(String));
  });

  it("shows a change made outside this Worker once the row is listed and due", async () => {
    const since = new Date().toISOString();
    const id = uniqueId("outside");
    await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    await waitForApiStatus("my-workflow", id, "running");
    await (await env.MY_WORKFLOW.get(id)).pause();
    const q = `date_start=${encodeURIComponent(since)}`;
    // Not yet: the index still holds what it last learned.
    expect((await listed(`${q}&status=paused`)).result).toEqual([]);
    // A listing that shows the row once it is due reads it (here: ten minutes on).
    const page = await instanceIndex(env, "my-workflow").list(
      "my-workflow",
      { page: 1, per_page: 10, direction: "desc", date_start: since },
      Date.now() + 10 * MINUTE,
    );
    expect(page.rows.find((r) => r.id === id)?.status).toBe("paused");
    expect((await listed(`${q}&status=paused`)).result!.map((i) => i.id)).toEqual([id]);
  });
});
