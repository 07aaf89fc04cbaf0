import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedInstance, InstanceDetails } from "../../src/instances/instances";
import { instanceIndex } from "../../src/workflows/instance-records";
import { api, captureConsole, fulfilledSmallOrder, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { INJECTED_FAULT } from "../runtime-noise";

const INSTANCES = "/api/workflows/my-workflow/instances";

/**
 * A real fault in the instance index's storage, for the given ids only: SQLite refuses
 * every insert or update of a row keyed by one of them, in every table of the index that
 * has an `id` column, so each call that would record them throws. Dispose to lift it.
 */
async function refuseIndexWrites(workflow: string, ids: string[]) {
  const stub = instanceIndex(env, workflow);
  const prefix = `refuse_${crypto.randomUUID().replaceAll("-", "")}`;
  const names = await runInDurableObject(stub, (_index, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      )
      .toArray()
      .map((row) => String(row.name));
    const created: string[] = [];
    for (const table of tables) {
      const columns = sql.exec("SELECT name FROM pragma_table_info(?)", table).toArray();
      if (!columns.some((c) => c.name === "id")) continue;
      for (const op of ["INSERT", "UPDATE"]) {
        const name = `${prefix}_${table}_${op}`;
        sql.exec(
          `CREATE TRIGGER ${name} BEFORE ${op} ON ${table} WHEN NEW.id IN (${ids.map((id) => `'${id}'`).join(",")})
           BEGIN SELECT RAISE(ABORT, 'index storage refused (${INJECTED_FAULT})'); END`,
        );
        created.push(name);
      }
    }
    return created;
  });
  // The fault must reach the table that records instances, or this test proves nothing.
  expect(names.length).toBeGreaterThan(0);
  return {
    async [Symbol.asyncDispose]() {
      await runInDurableObject(stub, (_index, state) => {
        for (const name of names) state.storage.sql.exec(`DROP TRIGGER IF EXISTS ${name}`);
      });
    },
  };
}

const details = async (id: string) => (await api<InstanceDetails>("GET", `${INSTANCES}/${id}`)).body.result!;

describe("a create whose record in the instance index fails", () => {
  it("answers 201 for the instance it started, which runs; creating the id again is a 409", async () => {
    const id = uniqueId("unrecorded");
    using logs = captureConsole();
    await using _fault = await refuseIndexWrites("my-workflow", [id]);
    const created = await api<CreatedInstance>("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    // The instance exists: a failed create here would have the caller retry into a 409.
    expect(created.status).toBe(201);
    expect(created.body.result).toMatchObject({ id, status: "queued", trigger_source: "api" });
    const done = (await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails;
    expect(done.output).toEqual(fulfilledSmallOrder(id));
    // The fault took: the index never held it.
    expect(done.started_by).toBe("unknown");
    const again = await api("POST", INSTANCES, { instance_id: id, params: smallOrder() });
    expect(again.status).toBe(409);
    // Each refused write was logged, naming the instance.
    expect(logs.lines).toContainEqual(expect.stringMatching(`could not record 1 instance\\(s\\) of my-workflow`));
    expect(logs.lines).toContainEqual(expect.stringMatching(`status complete of my-workflow/${id} not stored`));
  });

  it("over RPC, and for one instance of a batch, the same: every instance started is reported and runs", async () => {
    const single = uniqueId("unrecorded-rpc");
    const [faulty, healthy] = [uniqueId("unrecorded-batch"), uniqueId("recorded-batch")];
    using logs = captureConsole();
    await using _fault = await refuseIndexWrites("my-workflow", [single, faulty]);

    const viaRpc = await exports.WorkflowService.create("my-workflow", { instance_id: single, params: smallOrder() });
    expect(viaRpc).toMatchObject({ ok: true, result: { id: single, status: "queued" } });
    const batch = await api<CreatedInstance[]>("POST", `${INSTANCES}/batch`, [
      { instance_id: faulty, params: smallOrder() },
      { instance_id: healthy, params: smallOrder() },
    ]);
    expect(batch.status).toBe(201);
    expect(batch.body.result!.map((r) => r.id)).toEqual([faulty, healthy]);

    for (const id of [single, faulty, healthy]) {
      expect(((await waitForApiStatus("my-workflow", id, "complete")) as InstanceDetails).output).toEqual(
        fulfilledSmallOrder(id),
      );
    }
    expect((await details(single)).started_by).toBe("unknown");
    expect((await details(faulty)).started_by).toBe("unknown");
    for (const id of [single, faulty]) {
      expect(logs.lines).toContainEqual(expect.stringMatching(`status complete of my-workflow/${id} not stored`));
    }
    expect(logs.lines.join("\n")).not.toContain(healthy);
  });
});
