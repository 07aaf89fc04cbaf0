import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cronProblem } from "../../src/agents/scheduler-input";
import { api, smallOrder, uniqueId } from "../helpers";
import { agentPath } from "./agent-helpers";

const order = smallOrder();

describe("WorkflowScheduler input at the edge", () => {
  const name = uniqueId("agent");
  const cases: [string, unknown, number, string][] = [
    ["no timing", { workflow: "my-workflow", params: order }, 400, "delay_seconds"],
    ["two timings", { workflow: "my-workflow", params: order, delay_seconds: 5, cron: "* * * * *" }, 400, "cron"],
    ["zero delay", { workflow: "my-workflow", params: order, delay_seconds: 0 }, 400, "delay_seconds"],
    ["fractional delay", { workflow: "my-workflow", params: order, delay_seconds: 1.5 }, 400, "delay_seconds"],
    ["delay over a year", { workflow: "my-workflow", params: order, delay_seconds: 366 * 86400 }, 400, "delay_seconds"],
    ["delay as a string", { workflow: "my-workflow", params: order, delay_seconds: "60" }, 400, "delay_seconds"],
    ["date in the past", { workflow: "my-workflow", params: order, at: "2020-01-01T00:00:00Z" }, 400, "at"],
    [
      "date over a year ahead",
      { workflow: "my-workflow", params: order, at: new Date(Date.now() + 400 * 86400_000).toISOString() },
      400,
      "at",
    ],
    ["date without zone", { workflow: "my-workflow", params: order, at: "2030-01-01 09:00" }, 400, "at"],
    ["cron with 6 fields", { workflow: "my-workflow", params: order, cron: "0 * * * * *" }, 400, "cron"],
    ["cron out of range", { workflow: "my-workflow", params: order, cron: "61 * * * *" }, 400, "cron"],
    [
      "cron with an id",
      { workflow: "my-workflow", params: order, cron: "0 * * * *", instance_id: "x" },
      400,
      "instance_id",
    ],
    [
      "bad instance id",
      { workflow: "my-workflow", params: order, delay_seconds: 5, instance_id: "-bad id" },
      400,
      "instance_id",
    ],
    ["unknown field", { workflow: "my-workflow", params: order, delay_seconds: 5, every: 3 }, 400, ""],
    [
      "invalid params",
      { workflow: "my-workflow", params: { ...order, items: [] }, delay_seconds: 5 },
      400,
      "params.items",
    ],
    [
      "params the schema does not know",
      { workflow: "my-workflow", params: { ...order, __agentName: "x" }, delay_seconds: 5 },
      400,
      "params.__agentName",
    ],
    ["unknown workflow", { workflow: "nope", params: order, delay_seconds: 5 }, 404, ""],
  ];
  for (const [what, body, status, field] of cases) {
    it(`schedule: ${what} -> ${status}`, async () => {
      const res = await api("POST", agentPath(name, "/schedules"), body);
      expect(res.status).toBe(status);
      expect(res.body.success).toBe(false);
      if (field) expect(res.body.errors[0]!.field).toBe(field);
    });
  }

  it("start: invalid params name the field; nothing is tracked", async () => {
    const res = await api("POST", agentPath(name, "/workflows"), {
      workflow: "my-workflow",
      params: { ...order, customer_email: "no" },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe("params.customer_email");
    const list = await api<{ total: number }>("GET", agentPath(name, "/workflows"));
    expect(list.body.result!.total).toBe(0);
  });

  it("start: malformed JSON is a 400", async () => {
    const res = await api("POST", agentPath(name, "/workflows"), "{not json");
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.field).toBe("body");
  });

  const queries: [string, string][] = [
    ["?status=done", "status.0"],
    ["?limit=0", "limit"],
    ["?limit=101", "limit"],
    ["?order=up", "order"],
    ["?cursor=not-a-cursor", "cursor"],
    ["?page=2", ""],
  ];
  for (const [query, field] of queries) {
    it(`list ${query} -> 400`, async () => {
      const res = await api("GET", agentPath(name, `/workflows${query}`));
      expect(res.status).toBe(400);
      if (field) expect(res.body.errors[0]!.field).toBe(field);
    });
  }

  it("an agent name that is not 1-64 safe characters is a 400", async () => {
    for (const bad of ["a".repeat(65), "bad%20name", "dots.not.allowed"]) {
      const res = await api("GET", agentPath(bad, "/schedules"));
      expect(res.status, bad).toBe(400);
      expect(res.body.errors[0]!.field).toBe("agent");
    }
  });

  it("other agent classes and methods are refused", async () => {
    expect((await api("GET", "/agents/instance-index/x")).status).toBe(404);
    expect((await api("PUT", agentPath(name, "/schedules"))).status).toBe(405);
    expect((await api("GET", agentPath(name, "/schedules/abc"))).status).toBe(405);
  });

  it("the Agent validates on its own too (RPC callers skip the edge)", async () => {
    const stub = env.WORKFLOW_SCHEDULER.get(env.WORKFLOW_SCHEDULER.idFromName(name));
    const result = await stub.addSchedule({ workflow: "my-workflow", params: order, cron: "every day" });
    expect(result).toMatchObject({ ok: false, error: { kind: "invalid_input", status: 400, field: "cron" } });
  });
});

describe("WorkflowScheduler auth", () => {
  it("HTTP and WebSocket need the bearer token", async () => {
    const name = uniqueId("agent");
    expect((await api("GET", agentPath(name, "/schedules"), undefined, {})).status).toBe(401);
    const ws = await exports.default.fetch(
      new Request(`https://worker.test${agentPath(name)}`, { headers: { Upgrade: "websocket" } }),
    );
    expect(ws.status).toBe(401);
    expect(ws.webSocket).toBeNull();
  });
});

describe("cronProblem", () => {
  it.each([
    ["* * * * *", undefined],
    ["*/5 0-6,22 1 1-12/2 0,7", undefined],
    ["0 3 * * 1-5", undefined],
    ["* * * *", "must have 5 fields"],
    ["60 * * * *", "within 0-59"],
    ["* 24 * * *", "within 0-23"],
    ["* * 0 * *", "within 1-31"],
    ["* * * 13 *", "within 1-12"],
    ["5-1 * * * *", "backwards"],
    ["*/0 * * * *", "step"],
    ["mon * * * *", "not a number"],
  ])("%s", (cron, problem) => {
    const found = cronProblem(cron);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
