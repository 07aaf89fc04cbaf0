import { describe, expect, it } from "vitest";
import { api, smallOrder, uniqueId } from "../helpers";

const INSTANCES = "/api/workflows/my-workflow/instances";

/** The ids the Workflows engine refuses to create, and the two that name paths of this API. */
const RESERVED = ["batch", "bulk", "terminate", "terminateAll", `cf_${"0123456789abcdef".repeat(4)}`];

const expect400 = (res: { status: number; body: { errors: { field?: string; message: string }[] } }, field: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.errors[0]!.field).toBe(field);
  expect(res.body.errors[0]!.message).toMatch(/reserved/);
};

describe("reserved instance ids", () => {
  it("a batch naming a reserved id is a 400 naming the field, and creates nothing", async () => {
    for (const id of RESERVED) {
      const fresh = uniqueId("beside-reserved");
      const res = await api("POST", `${INSTANCES}/batch`, [
        { instance_id: fresh, params: smallOrder() },
        { instance_id: id, params: smallOrder() },
      ]);
      expect400(res, "body.1.instance_id");
      expect((await api("GET", `${INSTANCES}/${fresh}`)).status).toBe(404);
    }
  });

  it("a single create naming a reserved id is a 400 (batch and bulk could never be read back)", async () => {
    for (const id of RESERVED) {
      expect400(await api("POST", INSTANCES, { instance_id: id, params: smallOrder() }), "instance_id");
    }
    // The routes of those paths answer, not an instance.
    expect((await api("GET", `${INSTANCES}/bulk`)).status).toBe(405);
    expect((await api("GET", `${INSTANCES}/batch`)).status).toBe(405);
  });

  it("ids that only look like reserved ones are accepted", async () => {
    // Matching is exact, as the platform's: a longer id or another case is an ordinary id.
    const ids = [uniqueId("batch"), `Bulk-${uniqueId()}`, `cf_${uniqueId()}`];
    const res = await api(
      "POST",
      `${INSTANCES}/batch`,
      ids.map((instance_id) => ({ instance_id, params: smallOrder() })),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});
