import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { SchedulerState, ScheduleView } from "../../src/agents/scheduler-views";
import type { Envelope } from "../../src/shared/envelope";
import { SERVICE_CLIENT_HEADER } from "../../src/shared/service-client";
import { fireSchedule } from "../agents/agent-helpers";
import { captureConsole, smallOrder, uniqueId } from "../helpers";
import { withinOneWindow } from "../rate-limit-window";

/**
 * A cron schedule multiplies creates: every firing starts an instance. Each firing spends
 * the create budget of whoever made the schedule (the limit as wrangler.jsonc sets it), so
 * a client's schedules together never start more than the client could start by hand.
 */
const configured = inject("createRateLimit");

/** The Agent's routes through WorkflowService's fetch, as the Pages app calls them for `client`. */
const asClient = (client: string, path: string, init: RequestInit = {}) =>
  exports.WorkflowService.fetch(
    new Request(`https://worker.internal/agents/workflow-scheduler${path}`, {
      ...init,
      headers: { "content-type": "application/json", [SERVICE_CLIENT_HEADER]: client },
    }),
  );

async function cronOf(client: string, agent: string): Promise<string> {
  const res = await asClient(client, `/${agent}/schedules`, {
    method: "POST",
    body: JSON.stringify({ workflow: "my-workflow", params: smallOrder(), cron: "*/5 * * * *" }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as Envelope<ScheduleView>).result!.id;
}

const runsOf = async (client: string, agent: string) =>
  ((await (await asClient(client, `/${agent}`)).json()) as Envelope<SchedulerState>).result!.runs;

describe("a cron schedule's firings", () => {
  it("spend the budget of whoever made it: once it is spent, a firing starts nothing", async () => {
    const { limit, period } = configured!;
    const { lines, runs } = await withinOneWindow(period, async () => {
      const client = uniqueId("access:cron-maker");
      const agent = uniqueId("cron-budget");
      const schedule = await cronOf(client, agent);
      // The schedule's own POST spent one; spend the rest with invalid creates.
      for (let i = 1; i < limit; i++) {
        const res = await asClient(client, `/${agent}/workflows`, { method: "POST", body: "{}" });
        expect(res.status).toBe(400);
      }
      using logs = captureConsole();
      await fireSchedule(agent, schedule);
      return { lines: logs.lines, runs: await runsOf(client, agent) };
    });
    expect(lines).toContainEqual(expect.stringMatching(/: not started at .*: its maker's create budget is spent$/));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      workflow: "my-workflow",
      status: "errored",
      error: expect.stringMatching(/create budget of whoever made this schedule is spent/),
    });
    const instance = await exports.WorkflowService.status("my-workflow", runs[0]!.id);
    expect(instance).toMatchObject({ ok: false, error: { kind: "not_found" } });
  }, 60_000);

  it("start their instance while the maker's budget lasts", async () => {
    const client = uniqueId("access:cron-maker");
    const agent = uniqueId("cron-budget");
    await fireSchedule(agent, await cronOf(client, agent));
    const runs = await runsOf(client, agent);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).not.toBe("errored");
  });
});
