import { describe, expect, it } from "vitest";
import type { RpcInstanceDetails } from "../../src/rpc/workflow-service";
import type { Envelope } from "../../src/shared/envelope";
import { json, order, pages, uniqueId } from "./helpers";

/** The run as the platform recorded it, through both paths of the Pages app: steps, one step's output, the event stream. */
async function read<T>(res: Response) {
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

async function completed(path: "rpc" | "http") {
  const id = uniqueId(`${path}-history`);
  const created = await pages(
    `/${path}/workflows/my-workflow/instances`,
    json("POST", { instance_id: id, params: order() }),
  );
  expect(created.status).toBe(201);
  for (let i = 0; i < 300; i++) {
    const res = await read<RpcInstanceDetails>(
      await pages(`/${path}/workflows/my-workflow/instances/${id}?simple=true`),
    );
    if (res.body.result?.status === "complete") return id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} did not complete through /${path}`);
}

describe.each(["rpc", "http"] as const)("the run's history through the /%s path", (path) => {
  const base = `/${path}/workflows/my-workflow`;

  it("reads an instance's steps, honours simple and order, and gives one step's full output", async () => {
    const id = await completed(path);
    const full = await read<RpcInstanceDetails>(await pages(`${base}/instances/${id}`));
    expect(full.status).toBe(200);
    const names = full.body.result!.steps!.flatMap((s) => ("name" in s ? [s.name] : []));
    expect(names).toEqual(expect.arrayContaining(["reserve inventory-1", "charge payment-1", "create shipment-1"]));
    expect(full.body.result!.step_count).toBe(full.body.result!.steps!.length);
    const simple = await read<RpcInstanceDetails>(await pages(`${base}/instances/${id}?simple=true`));
    expect(simple.body.result!.steps).toBeUndefined();
    const desc = await read<RpcInstanceDetails>(await pages(`${base}/instances/${id}?order=desc`));
    expect(desc.body.result!.steps).toEqual([...full.body.result!.steps!].reverse());

    const step = await read(await pages(`${base}/instances/${id}/step?name=${encodeURIComponent("charge payment-1")}`));
    expect(step).toMatchObject({ status: 200, body: { result: { status: "complete", output: `pay-${id}` } } });
    const missing = await read(await pages(`${base}/instances/${id}/step?name=nothing-1`));
    expect(missing.status).toBe(404);
    const bad = await read(await pages(`${base}/instances/${id}?simple=maybe`));
    expect(bad).toMatchObject({ status: 400, body: { errors: [{ field: "simple" }] } });
  });

  it("streams an instance's events as Server-Sent Events, resumes from Last-Event-ID, 204 at the end", async () => {
    const id = await completed(path);
    const res = await pages(`${base}/instances/${id}/subscribe`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(text).toContain("event: workflow_queued");
    expect(text).toMatch(/event: workflow_completed\n[\s\S]*event: end\n/);

    const resumed = await (
      await pages(`${base}/instances/${id}/subscribe`, { headers: { "last-event-id": String(ids[2]) } })
    ).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(ids.slice(3));
    const end = await pages(`${base}/instances/${id}/subscribe?cursor=${ids.at(-1)}`);
    expect(end.status).toBe(204);
    const bad = await read(await pages(`${base}/instances/${id}/subscribe?filter=nope`));
    expect(bad).toMatchObject({ status: 400, body: { errors: [{ field: "filter" }] } });
  });

  it("lists the workflow's version", async () => {
    const res = await read<{ workflow_id: string }[]>(await pages(`${base}/versions`));
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual([expect.objectContaining({ workflow_id: "my-workflow", language: "javascript" })]);
  });
});
