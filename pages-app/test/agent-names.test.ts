import { describe, expect, it } from "vitest";
import type { SchedulerState, ScheduleView } from "../../src/agents/scheduler-views";
import type { Envelope } from "../../src/shared/envelope";
import { accessToken } from "./access-tokens";
import { json, order, pages, uniqueId } from "./helpers";

/**
 * Who reaches which Agent through the Pages app: every verified caller has Agents of their
 * own. The same name, asked by two users, is two Agents; no spelling of a path lets one user
 * read, add to or cancel another's schedules.
 */
const as =
  (sub: string) =>
  async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("cf-access-jwt-assertion", await accessToken({ claims: { sub } }));
    return pages(path, { ...init, headers });
  };
const agent = (name: string, rest = "") => `/worker/agents/workflow-scheduler/${name}${rest}`;

async function scheduleOf(send: ReturnType<typeof as>, name: string): Promise<ScheduleView> {
  const res = await send(
    agent(name, "/schedules"),
    json("POST", { workflow: "my-workflow", params: order(), delay_seconds: 3600 }),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as Envelope<ScheduleView>).result!;
}

const schedulesOf = async (send: ReturnType<typeof as>, name: string) => {
  const res = await send(agent(name, "/schedules"));
  expect(res.status).toBe(200);
  return ((await res.json()) as Envelope<ScheduleView[]>).result!.map((s) => s.id);
};

describe("Agents through the Pages app are their caller's own", () => {
  it("one name, two users: two Agents, neither sees, cancels or watches the other's", async () => {
    const ada = as(uniqueId("ada"));
    const bob = as(uniqueId("bob"));
    const name = uniqueId("shared");
    const adas = await scheduleOf(ada, name);

    expect(await schedulesOf(bob, name)).toEqual([]);
    const cancel = await bob(agent(name, `/schedules/${adas.id}`), {
      method: "DELETE",
      headers: { "content-type": "application/json" },
    });
    expect(cancel.status).toBe(404);
    expect(await schedulesOf(ada, name)).toEqual([adas.id]);

    // Bob's own schedule on the same name is his alone.
    const bobs = await scheduleOf(bob, name);
    expect(await schedulesOf(bob, name)).toEqual([bobs.id]);
    expect(await schedulesOf(ada, name)).toEqual([adas.id]);

    // Ada's tracked run shows in her Agent's state, over HTTP and over its WebSocket, not in Bob's.
    const started = await ada(agent(name, "/workflows"), json("POST", { workflow: "my-workflow", params: order() }));
    expect(started.status).toBe(201);
    const runId = ((await started.json()) as Envelope<{ id: string }>).result!.id;
    const stateOf = async (send: ReturnType<typeof as>) =>
      ((await (await send(agent(name))).json()) as Envelope<SchedulerState>).result!.runs.map((r) => r.id);
    expect(await stateOf(ada)).toContain(runId);
    expect(await stateOf(bob)).not.toContain(runId);
    const socket = await bob(agent(name), { headers: { upgrade: "websocket" } });
    expect(socket.status).toBe(101);
    const ws = socket.webSocket!;
    ws.accept();
    const state = await new Promise<SchedulerState>((resolve) =>
      ws.addEventListener("message", (event) => {
        const message = JSON.parse(String(event.data)) as { type: string; state?: SchedulerState };
        if (message.type === "cf_agent_state") resolve(message.state!);
      }),
    );
    expect(state.runs.map((r) => r.id)).not.toContain(runId);
    ws.close(1000, "done");
  });

  it.each([
    "/worker/Agents/workflow-scheduler/NAME/schedules",
    "/worker/agents/Workflow-Scheduler/NAME/schedules",
    "/worker/%61gents/workflow-scheduler/NAME/schedules",
    "/worker/agents/workflow-scheduler/%4eAME/schedules",
    "/worker/agents%2Fworkflow-scheduler%2FNAME%2Fschedules",
    "/worker//agents/workflow-scheduler/NAME/schedules",
    "/worker/agents//workflow-scheduler/NAME/schedules",
    "/worker/agents/workflow-scheduler//NAME/schedules",
    "/worker/agents/workflow-scheduler/NAME/schedules/",
    "/worker/agents/workflow-scheduler/NAME%2Fschedules",
    "/worker/api/../agents/workflow-scheduler/NAME/schedules",
    "/worker/api/%2e%2e/agents/workflow-scheduler/NAME/schedules",
  ])("no spelling reaches another user's Agent: %s", async (spelling) => {
    const name = uniqueId("target").toUpperCase();
    const ada = as(uniqueId("ada"));
    const adas = await scheduleOf(ada, name);
    const res = await as(uniqueId("mallory"))(spelling.replace("NAME", name).replace("%4eAME", `%4e${name.slice(1)}`));
    const text = await res.text();
    expect(text).not.toContain(adas.id);
    // Refused, or (a `..` the URL resolves) the caller's own Agent of that name, which is empty.
    if (res.status === 200) expect((JSON.parse(text) as Envelope<unknown[]>).result).toEqual([]);
    else expect([400, 404]).toContain(res.status);
  });

  it("a name too long to carry its caller's prefix is refused, naming the limit", async () => {
    const res = await pages(agent("a".repeat(40)));
    expect(res.status).toBe(400);
    expect(((await res.json()) as Envelope<null>).errors[0]!.message).toMatch(/agent: must be 1 to 39/);
    expect((await pages(agent("a".repeat(39)))).status).toBe(200);
  });
});
