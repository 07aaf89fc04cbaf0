import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { InstanceIndex } from "../../src/instances/instance-index";
import { DEFAULT_RETENTION_DAYS, PRUNE_BATCH } from "../../src/instances/retention";
import type { MilestoneReport } from "../../src/shared/milestones";
import { largeOrder, pollUntil, uniqueId } from "../helpers";

const DAY = 24 * 3600_000;
/** An index object of this test's own. */
const privateIndex = () => env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName(uniqueId("idx")));
const report = (type: MilestoneReport["type"], step: string = type): MilestoneReport => ({
  step,
  percent: type === "progress" ? 0.5 : 1,
  message: step,
  type,
});

describe("instance index retention", () => {
  it("is 30 days as configured in wrangler.jsonc", () => {
    expect(env.INSTANCE_INDEX_RETENTION_DAYS).toBe(String(DEFAULT_RETENTION_DAYS));
  });

  it("prunes, by its alarm, the rows and milestones of instances that ended longer ago than the period, and nothing else", async () => {
    const index = privateIndex();
    const now = Date.now();
    const old = now - (DEFAULT_RETENTION_DAYS + 5) * DAY;
    const recent = now - (DEFAULT_RETENTION_DAYS - 5) * DAY;
    const ids = {
      oldComplete: uniqueId("old-c"),
      oldTerminated: uniqueId("old-t"),
      oldErroredByReport: uniqueId("old-e"),
      oldRunning: uniqueId("old-r"),
      recentComplete: uniqueId("new-c"),
      unrecordedOldEnd: uniqueId("orphan-end"),
      unrecordedOldProgress: uniqueId("orphan-run"),
    };
    // Written through the index's own methods, as if at those times.
    await index.record(
      "my-workflow",
      [ids.oldComplete, ids.oldTerminated, ids.oldErroredByReport, ids.oldRunning, ids.recentComplete].map((id) => ({
        id,
        trigger: "api" as const,
        status: "running",
      })),
      old - DAY,
    );
    for (const id of Object.values(ids)) await index.recordMilestone(id, report("progress", "step one"), old - DAY);
    await index.recordMilestone(ids.oldComplete, report("complete"), old);
    await index.setStatus(ids.oldTerminated, "terminated", old);
    await index.recordMilestone(ids.oldErroredByReport, report("error"), old);
    await index.recordMilestone(ids.recentComplete, report("complete"), recent);
    await index.recordMilestone(ids.unrecordedOldEnd, report("complete"), old);

    // The writes above set the alarm for now (those ends are past the period): it fires on
    // its own; running it here only hurries it.
    await runDurableObjectAlarm(index);
    const expected = {
      rows: [ids.oldRunning, ids.recentComplete].sort(),
      logs: [ids.oldRunning, ids.recentComplete, ids.unrecordedOldProgress].sort(),
    };
    const stored = () =>
      runInDurableObject(index, (_index, state) => ({
        rows: state.storage.sql
          .exec("SELECT id FROM instances ORDER BY id")
          .toArray()
          .map((r) => r.id as string),
        logs: state.storage.sql
          .exec("SELECT id FROM progress ORDER BY id")
          .toArray()
          .map((r) => r.id as string),
      }));
    const kept = await pollUntil(
      stored,
      (k) => JSON.stringify(k) === JSON.stringify(expected),
      "the alarm did not prune what it should",
      10_000,
    );
    expect(kept).toEqual(expected);
    const page = await index.list("my-workflow", { page: 1, per_page: 10, direction: "desc" }, now);
    expect(page.total).toBe(2);
    expect((await index.milestones(ids.recentComplete)).map((m) => m.type)).toEqual(["progress", "complete"]);

    // The next alarm comes when the recent end passes the period.
    const alarm = await runInDurableObject(index, (_index, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(recent + DEFAULT_RETENTION_DAYS * DAY);
  });

  it("prunes a large backlog in bounded batches", async () => {
    const index = privateIndex();
    await index.record(
      "my-workflow",
      Array.from({ length: 1200 }, (_, i) => ({ id: `ended-${i}`, trigger: "api" as const, status: "complete" })),
    );
    // As the alarm would, once the period has passed.
    const later = Date.now() + (DEFAULT_RETENTION_DAYS + 1) * DAY;
    expect(await index.prune(later)).toEqual({ instances: PRUNE_BATCH, milestones: 0, more: true });
    expect(await index.prune(later)).toEqual({ instances: PRUNE_BATCH, milestones: 0, more: true });
    expect(await index.prune(later)).toEqual({ instances: 200, milestones: 0, more: false });
    expect((await index.list("my-workflow", { page: 1, per_page: 10, direction: "desc" })).total).toBe(0);
  });
});

describe("an index created by an earlier version", () => {
  it("is migrated in place: its rows keep their statuses, counts and order", async () => {
    const stub = env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName(uniqueId("v1-index")));
    const waiting = uniqueId("v1");
    await env.MY_WORKFLOW.create({ id: waiting, params: largeOrder() });
    const page = await runInDurableObject(stub, async (_index, state) => {
      // The storage the first version wrote: these two tables, nothing else.
      for (const table of ["instances", "progress", "status_counts", "meta"])
        state.storage.sql.exec(`DROP TABLE IF EXISTS ${table}`);
      state.storage.sql.exec(`CREATE TABLE instances (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, trigger TEXT NOT NULL,
        status TEXT NOT NULL, created_on TEXT NOT NULL, modified_on TEXT NOT NULL, ended_on TEXT,
        checked_at INTEGER NOT NULL DEFAULT 0)`);
      state.storage.sql.exec(
        "CREATE TABLE progress (id TEXT PRIMARY KEY, milestones TEXT NOT NULL, updated_at TEXT NOT NULL)",
      );
      const at = new Date().toISOString();
      const insert =
        "INSERT INTO instances (id, trigger, status, created_on, modified_on, ended_on) VALUES (?, 'api', ?, ?, ?, ?)";
      state.storage.sql.exec(insert, "v1-done", "complete", at, at, at);
      state.storage.sql.exec(insert, waiting, "running", at, at, null);
      const index = new InstanceIndex(state, env);
      return {
        all: await index.list("my-workflow", { page: 1, per_page: 10, direction: "asc" }),
        running: await index.list("my-workflow", { status: "running", page: 1, per_page: 10, direction: "asc" }),
      };
    });
    expect(page.all.rows.map((r) => [r.id, r.status])).toEqual([
      ["v1-done", "complete"],
      [waiting, "running"],
    ]);
    expect(page.all.total).toBe(2);
    expect(page.running.total).toBe(1);
    await (await env.MY_WORKFLOW.get(waiting)).terminate();
  });
});
