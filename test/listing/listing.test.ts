import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BulkResult, CreatedInstance, InstanceDetails } from "../../src/instances/instances";
import type { InstanceSummary } from "../../src/instances/listing";
import type { Envelope, ResultInfo } from "../../src/shared/envelope";
import { instanceIndex } from "../../src/workflows/instance-records";
import { ORDER_STEPS } from "../../src/workflows/my-workflow";
import {
  api,
  captureConsole,
  largeOrder,
  listedSince,
  pollUntil,
  smallOrder,
  startedBy,
  uniqueId,
  waitForApiStatus,
} from "../helpers";
import { INJECTED_FAULT } from "../runtime-noise";

const INSTANCES = "/api/workflows/my-workflow/instances";

type Page = Envelope<InstanceSummary[]> & { result_info: ResultInfo };

async function list(query: string) {
  const res = await api<InstanceSummary[]>("GET", `${INSTANCES}?${query}`);
  return { status: res.status, body: res.body as Page };
}

describe("GET /api/workflows/:name/instances", () => {
  it("lists instances from several trigger paths across pages, by page and by cursor", async () => {
    const since = new Date().toISOString();
    const batch = await api<CreatedInstance[]>(
      "POST",
      `${INSTANCES}/batch`,
      Array.from({ length: 20 }, () => ({ params: smallOrder() })),
    );
    expect(batch.status).toBe(201);
    const single = [];
    for (let i = 0; i < 3; i++)
      single.push((await api<CreatedInstance>("POST", INSTANCES, { params: smallOrder() })).body.result!.id);
    const viaRpc = [uniqueId("lr"), uniqueId("lr")];
    for (const id of viaRpc) {
      expect(
        await exports.WorkflowService.create("my-workflow", { instance_id: id, params: smallOrder() }),
      ).toMatchObject({ ok: true });
    }
    const expected = new Set([...batch.body.result!.map((r) => r.id), ...single, ...viaRpc]);

    const byPage: InstanceSummary[] = [];
    for (let page = 1; ; page++) {
      const res = await list(`per_page=10&page=${page}&date_start=${encodeURIComponent(since)}`);
      expect(res.status).toBe(200);
      expect(res.body.result_info).toMatchObject({ page, per_page: 10, total_count: 25, total_pages: 3 });
      if (res.body.result!.length === 0) break;
      byPage.push(...res.body.result!);
    }
    expect(byPage.map((i) => i.id).sort()).toEqual([...expected].sort());
    // Newest first by default.
    expect(byPage[0]!.created_on >= byPage[byPage.length - 1]!.created_on).toBe(true);

    const byCursor: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await list(
        `per_page=7&direction=asc&date_start=${encodeURIComponent(since)}${cursor ? `&cursor=${cursor}` : ""}`,
      );
      byCursor.push(...res.body.result!.map((i) => i.id));
      cursor = res.body.result_info.cursor;
    } while (cursor);
    expect(byCursor).toHaveLength(25);
    expect(new Set(byCursor)).toEqual(expected);

    const triggers = Object.groupBy(byPage, (i) => i.started_by);
    expect(triggers.api).toHaveLength(23);
    expect(triggers.rpc?.map((i) => i.id).sort()).toEqual([...viaRpc].sort());
    expect(triggers.rpc![0]).toMatchObject({
      trigger_source: "binding",
      workflow_id: "my-workflow",
      version_id: env.CF_VERSION_METADATA.id,
    });
  });

  // The optional parts' own paths are listed by their tests: test/agents, test/triggers, test/parent.
  it("shows who started each instance: the HTTP API, RPC", async () => {
    const since = new Date().toISOString();
    const viaApi = uniqueId("by-api");
    expect((await api("POST", INSTANCES, { instance_id: viaApi, params: smallOrder() })).status).toBe(201);

    const viaRpc = uniqueId("by-rpc");
    expect(
      await exports.WorkflowService.create("my-workflow", { instance_id: viaRpc, params: smallOrder() }),
    ).toMatchObject({ ok: true });

    expect(startedBy(await listedSince("my-workflow", since), [viaApi, viaRpc])).toEqual({
      [viaApi]: "api",
      [viaRpc]: "rpc",
    });
    for (const id of [viaApi, viaRpc]) await waitForApiStatus("my-workflow", id, "complete");
  });

  it("filters by current status", async () => {
    const since = new Date().toISOString();
    const waiting = uniqueId("w");
    const stopped = uniqueId("s");
    const done = uniqueId("d");
    await api("POST", INSTANCES, { instance_id: waiting, params: largeOrder() });
    await api("POST", INSTANCES, { instance_id: stopped, params: largeOrder() });
    await api("POST", INSTANCES, { instance_id: done, params: smallOrder() });
    await api("PATCH", `${INSTANCES}/${stopped}/status`, { status: "terminate" });
    await waitForApiStatus("my-workflow", done, "complete");
    const q = `date_start=${encodeURIComponent(since)}`;

    const ids = async (status: string) => (await list(`${q}&status=${status}`)).body.result!.map((i) => i.id);
    expect(await ids("terminated")).toEqual([stopped]);
    expect(await ids("complete")).toEqual([done]);
    expect(await ids("running")).toEqual([waiting]);
    const ended = (await list(`${q}&status=terminated`)).body.result![0]!;
    expect(ended.ended_on).toEqual(expect.any(String));
  });

  it("compares date filters as instants, whatever offset they are written in", async () => {
    const id = uniqueId("tz");
    const before = Date.now() - 60_000;
    expect((await api("POST", INSTANCES, { instance_id: id, params: smallOrder() })).status).toBe(201);
    const after = Date.now() + 60_000;
    /** The instant `ms` written in local time at UTC offset `hours` (e.g. 2026-12-01T15:00:00+02:00). */
    const at = (ms: number, hours: number) =>
      encodeURIComponent(
        `${new Date(ms + hours * 3600_000).toISOString().slice(0, 19)}${hours < 0 ? "-" : "+"}${String(Math.abs(hours)).padStart(2, "0")}:00`,
      );
    const ids = async (query: string) => (await list(`per_page=100&${query}`)).body.result!.map((i) => i.id);

    expect(await ids(`date_start=${at(before, 2)}`)).toContain(id);
    expect(await ids(`date_start=${at(before, -5)}&date_end=${at(after, -5)}`)).toContain(id);
    expect(await ids(`date_start=${at(before, 9)}&date_end=${at(after, 2)}`)).toContain(id);
    expect(await ids(`date_start=${at(after, -5)}`)).not.toContain(id);
    expect(await ids(`date_start=${at(before - 3600_000, 2)}&date_end=${at(before, 2)}`)).not.toContain(id);
    await waitForApiStatus("my-workflow", id, "complete");
  });

  it("answers a page past the end with an empty result", async () => {
    const res = await list("page=100000&per_page=100");
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual([]);
  });

  it.each([
    ["per_page", "per_page=0"],
    ["per_page", "per_page=101"],
    ["page", "page=0"],
    ["page", "page=abc"],
    ["status", "status=sleeping"],
    ["cursor", "cursor=not-a-cursor"],
    ["cursor", "cursor=%24%24"],
    ["direction", "direction=sideways"],
    ["date_start", "date_start=yesterday"],
    ["colour", "colour=blue"],
  ])("answers 400 naming %s for %s", async (field, query) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe(field);
  });

  it("answers 404 for an unknown workflow", async () => {
    const res = await api("GET", "/api/workflows/nope/instances");
    expect(res.status).toBe(404);
  });
});

describe("GET /api/workflows/:name/instances/:id with the index", () => {
  it("reports who started the instance and when", async () => {
    const id = uniqueId("who");
    await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect(done).toMatchObject({ started_by: "api", trigger: { source: "api" }, success: true });
    expect(Date.parse(done.created_on!)).not.toBeNaN();
    expect(done.queued).toBe(done.created_on);
  });
});

describe("POST /api/workflows/:name/instances/bulk", () => {
  it("terminates a list of instances with a result per id", async () => {
    const running = [uniqueId("b"), uniqueId("b")];
    const finished = uniqueId("f");
    for (const id of running) await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    await api("POST", INSTANCES, { instance_id: finished, params: smallOrder() });
    await waitForApiStatus("my-workflow", finished, "complete");

    const res = await api<BulkResult[]>("POST", `${INSTANCES}/bulk`, {
      action: "terminate",
      instance_ids: [...running, finished, "never-created"],
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual([
      { id: running[0], success: true, status: "terminated" },
      { id: running[1], success: true, status: "terminated" },
      { id: finished, success: false, error: { code: 40900, message: expect.stringContaining("complete") } },
      { id: "never-created", success: false, error: { code: 40400, message: expect.stringContaining("not found") } },
    ]);
  });

  it("answers each id even when an unexpected fault hits one of them after others changed", async () => {
    const ids = [uniqueId("bf"), uniqueId("bf"), uniqueId("bf")];
    for (const id of ids) await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    // Each waits for its approval, done reporting (a report would write to the index too).
    for (const id of ids) {
      await pollUntil(
        async () => (await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result?.progress?.step,
        (step) => step === ORDER_STEPS.approval,
        `${id} never waited for approval`,
        15_000,
      );
    }
    const faulty = ids[1]!;
    // A real fault in the middle of the bulk action: the index's storage (SQLite) refuses
    // to change this id's row, after the binding has paused the instance.
    const trigger = `refuse_${faulty.replace(/-/g, "_")}`;
    await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) => {
      state.storage.sql.exec(
        `CREATE TRIGGER ${trigger} BEFORE UPDATE ON instances WHEN NEW.id = '${faulty}'
         BEGIN SELECT RAISE(ABORT, 'index storage refused (${INJECTED_FAULT})'); END`,
      );
    });
    let res: Awaited<ReturnType<typeof api<BulkResult[]>>>;
    using logs = captureConsole();
    try {
      res = await api<BulkResult[]>("POST", `${INSTANCES}/bulk`, { action: "pause", instance_ids: ids });
    } finally {
      await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) => {
        state.storage.sql.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
      });
    }
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual([
      { id: ids[0], success: true, status: "paused" },
      { id: faulty, success: false, error: { code: 50000, message: expect.stringContaining(faulty) } },
      { id: ids[2], success: true, status: "paused" },
    ]);
    // The unexpected fault is logged with the id it hit.
    expect(logs.lines).toContainEqual(
      expect.stringContaining(`bulk pause of instance ${faulty} of my-workflow failed`),
    );
    for (const id of ids) await api("PATCH", `${INSTANCES}/${id}/status`, { status: "terminate" });
  });

  it("pauses and resumes in bulk", async () => {
    const ids = [uniqueId("p"), uniqueId("p")];
    for (const id of ids) await api("POST", INSTANCES, { instance_id: id, params: largeOrder() });
    const paused = await api<BulkResult[]>("POST", `${INSTANCES}/bulk`, { action: "pause", instance_ids: ids });
    expect(paused.body.result!.map((r) => r.success && r.status)).toEqual(["paused", "paused"]);
    for (const id of ids)
      expect((await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!.status).toBe("paused");
    const resumed = await api<BulkResult[]>("POST", `${INSTANCES}/bulk`, { action: "resume", instance_ids: ids });
    expect(resumed.status).toBe(200);
    expect(resumed.body.result).toEqual(ids.map((id) => ({ id, success: true, status: "running" })));
    // Each is running again, as a read of it says, and can be steered on: a second resume is refused.
    for (const id of ids)
      expect((await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!.status).toBe("running");
    const again = await api<BulkResult[]>("POST", `${INSTANCES}/bulk`, { action: "resume", instance_ids: ids });
    expect(again.body.result!.map((r) => !r.success && r.error.code)).toEqual([40900, 40900]);
  });

  it.each([
    ["action", { action: "delete", instance_ids: ["a"] }],
    ["instance_ids", { action: "pause", instance_ids: [] }],
    ["instance_ids", { action: "pause", instance_ids: ["a", "a"] }],
    ["instance_ids.0", { action: "pause", instance_ids: ["-bad"] }],
    ["instance_ids", { action: "pause", instance_ids: Array.from({ length: 101 }, (_, i) => `i${i}`) }],
  ])("answers 400 naming %s", async (field, body) => {
    const res = await api("POST", `${INSTANCES}/bulk`, body);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe(field);
  });
});
