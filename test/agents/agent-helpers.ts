import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { RunView, SchedulerState, TrackedPage } from "../../src/agents/scheduler-views";
import type { WorkflowScheduler } from "../../src/agents/workflow-scheduler";
import { api, auth } from "../helpers";

export const agentPath = (name: string, rest = "") => `/agents/workflow-scheduler/${name}${rest}`;

export const schedulerStub = (name: string) => env.WORKFLOW_SCHEDULER.get(env.WORKFLOW_SCHEDULER.idFromName(name));

/** Every schedule of an Agent, its own status refresh included, as the SDK lists them. */
export const allSchedules = (name: string) =>
  runInDurableObject(schedulerStub(name), async (agent: WorkflowScheduler) =>
    (await agent.listSchedules()).map((s) => ({
      id: s.id,
      callback: s.callback,
      type: s.type,
      ...("cron" in s ? { cron: s.cron } : {}),
    })),
  );

/**
 * Makes a schedule due now, as if its time had come, then runs the Agent's alarm.
 * The SDK keeps schedules as jobs (ms timestamps) and its alarm runs every job whose
 * time has passed; moving the time is how a test skips the wait for a cron minute.
 */
export async function fireSchedule(name: string, scheduleId: string, at = Date.now() - 1000): Promise<void> {
  const stub = schedulerStub(name);
  const moved = await runInDurableObject(stub, (_instance, state) => {
    return state.storage.sql.exec("UPDATE cf_agents_jobs SET time = ? WHERE id = ?", at, scheduleId).rowsWritten;
  });
  if (moved !== 1) throw new Error(`schedule ${scheduleId} of ${name} has no pending job`);
  if (!(await runDurableObjectAlarm(stub))) throw new Error(`agent ${name} had no alarm set`);
}

/** Polls the tracked workflows of an Agent until `accept` holds for a page. */
export async function waitForTracked(
  name: string,
  accept: (page: TrackedPage) => boolean,
  query = "",
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: TrackedPage | null = null;
  while (Date.now() < deadline) {
    last = (await api<TrackedPage>("GET", agentPath(name, `/workflows${query}`))).body.result;
    if (last && accept(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tracked workflows of ${name} never matched: ${JSON.stringify(last)}`);
}

/** A WebSocket client of the Agent, through the Worker's fetch, as a browser would connect. */
export async function connect(name: string) {
  const res = await exports.default.fetch(
    new Request(`https://worker.test${agentPath(name)}`, { headers: { Upgrade: "websocket", ...auth } }),
  );
  if (res.status !== 101 || !res.webSocket) throw new Error(`no WebSocket upgrade: ${res.status}`);
  const socket = res.webSocket;
  socket.accept();
  const states: SchedulerState[] = [];
  const messages: { type: string; [key: string]: unknown }[] = [];
  const waiters: { accept: (s: SchedulerState) => boolean; resolve: (s: SchedulerState) => void }[] = [];
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { type: string; state?: SchedulerState };
    messages.push(message);
    if (message.type !== "cf_agent_state" || !message.state) return;
    states.push(message.state);
    for (const w of [...waiters]) {
      if (w.accept(message.state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message.state);
      }
    }
  });
  return {
    states,
    /** Every message received, of any type. */
    messages,
    send: (message: unknown) => socket.send(JSON.stringify(message)),
    /** Resolves with the first state (already received or coming) that `accept`s. */
    waitForState(accept: (s: SchedulerState) => boolean, timeoutMs = 10_000): Promise<SchedulerState> {
      const seen = states.find(accept);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching state within ${timeoutMs} ms: ${JSON.stringify(states.at(-1))}`)),
          timeoutMs,
        );
        waiters.push({
          accept,
          resolve: (s) => {
            clearTimeout(timer);
            resolve(s);
          },
        });
      });
    },
    run(state: SchedulerState, id: string): RunView | undefined {
      return state.runs.find((r) => r.id === id);
    },
    close: () => socket.close(1000, "done"),
  };
}
