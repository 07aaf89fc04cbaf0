import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { InstanceDetails } from "../../src/instances/instances";
import { instanceIndex } from "../../src/workflows/instance-records";
import { api, smallOrder, uniqueId, waitForApiStatus } from "../helpers";
import { INJECTED_FAULT } from "../runtime-noise";

const INSTANCES = "/api/workflows/my-workflow/instances";
const indexed = (id: string) => instanceIndex(env, "my-workflow").get(id);

describe("every instance the Worker creates or learns of is in the index", () => {
  it("records an instance once create() resolved, even when the index refuses the first attempt", async () => {
    const id = uniqueId("rec-retry");
    // A real fault in the index's storage, once: SQLite refuses the first insert of this id.
    const fault = `refuse_once_${id.replace(/-/g, "_")}`;
    await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) => {
      state.storage.sql.exec(`CREATE TABLE ${fault} (n INTEGER)`);
      state.storage.sql.exec(`INSERT INTO ${fault} VALUES (1)`);
      state.storage.sql.exec(
        `CREATE TRIGGER ${fault} BEFORE INSERT ON instances WHEN NEW.id = '${id}' AND (SELECT n FROM ${fault}) > 0
         BEGIN UPDATE ${fault} SET n = n - 1; SELECT RAISE(FAIL, 'index storage refused (${INJECTED_FAULT})'); END`,
      );
    });
    try {
      expect((await api("POST", INSTANCES, { instance_id: id, params: smallOrder() })).status).toBe(201);
      // Recorded by the create itself (no read of the instance yet), after the refusal.
      expect(await indexed(id)).toMatchObject({ id, trigger: "api" });
      const left = await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) =>
        state.storage.sql.exec(`SELECT n FROM ${fault}`).one(),
      );
      expect(left.n).toBe(0);
    } finally {
      await runInDurableObject(instanceIndex(env, "my-workflow"), (_index, state) => {
        state.storage.sql.exec(`DROP TRIGGER IF EXISTS ${fault}`);
        state.storage.sql.exec(`DROP TABLE IF EXISTS ${fault}`);
      });
    }
    await waitForApiStatus("my-workflow", id, "complete");
  });

  it("records, on read, an instance the binding knows and the index lacks", async () => {
    const id = uniqueId("direct");
    await env.MY_WORKFLOW.create({ id, params: smallOrder() });
    expect(await indexed(id)).toBeNull();
    const read = await api<InstanceDetails>("GET", `${INSTANCES}/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.result).toMatchObject({ id, started_by: "unknown", created_on: expect.any(String) });
    expect(await indexed(id)).toMatchObject({ id, trigger: "unknown" });
    const since = new Date(Date.now() - 60_000).toISOString();
    const listing = await api<{ id: string }[]>("GET", `${INSTANCES}?per_page=100&date_start=${since}`);
    expect(listing.body.result!.map((i) => i.id)).toContain(id);
    await waitForApiStatus("my-workflow", id, "complete");
  });
});
