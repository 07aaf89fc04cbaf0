// Restart test against `npm run dev` (scripts/dev.mjs: `wrangler dev` and `wrangler pages dev`
// on free ports, its own state directory, dev registry, token and local key): starts instances
// in every kind of durable wait, kills everything hard (SIGKILL to each wrangler's process group
// and to the script, as a crash would), starts `npm run dev` again on the same state, and
// reports what survived and what completed.
//
//   npm run check:template -- restart
//
// Kinds: instances waiting for an event (approval), instances inside `step.sleep`
// (settlement), instances already complete, and Agent schedules due after the restart. Known
// local gap: an instance that was inside `step.sleep` stays `running` after a restart until it
// is paused and resumed; `npm run dev` does that by itself once the Worker is up
// (scripts/recover.mjs), and this test proves it: nobody recovers anything by hand here.
// Exits non-zero if any instance or schedule is lost or does not complete.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { apiClient, freePort, newStateDir, newToken, pool, sleep } from "./lib/dev-server.mjs";

const PER_KIND = Number(process.env.RESTART_PER_KIND ?? 10);
const SLEEP_SECONDS = 20;
const AGENT_DELAY_SECONDS = 30; // part: agent
const WORKFLOW = "my-workflow";
const AGENT = `restart-${Date.now().toString(36)}`; // part: agent

const stateDir = newStateDir("wf-restart");
const token = newToken();
const root = fileURLToPath(new URL("..", import.meta.url));

/** The child pids of `pid` (Linux: /proc), each leading the process group of one wrangler. */
const childrenOf = (pid) =>
  readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );

/**
 * Runs `npm run dev`'s script (scripts/dev.mjs) on this run's ports, state, dev registry, token
 * and local key, and waits until it announces both apps (after its own recovery).
 */
async function startNpmRunDev(ports) {
  const devVars = join(stateDir, "dev.vars");
  writeFileSync(devVars, `API_TOKEN=${token}\n`);
  chmodSync(devVars, 0o600);
  mkdirSync(join(stateDir, "registry"), { recursive: true });
  const output = [];
  const child = spawn(process.execPath, [join(root, "scripts", "dev.mjs")], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      PERSIST_TO: join(stateDir, "state"),
      DEV_VARS: devVars,
      LOCAL_DEV_KEY: randomBytes(32).toString("hex"),
      WRANGLER_REGISTRY_PATH: join(stateDir, "registry"),
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
      FORCE_COLOR: "0",
    },
  });
  child.stdout.on("data", (d) => output.push(String(d)));
  child.stderr.on("data", (d) => output.push(String(d)));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const dev = {
    pid: child.pid,
    baseUrl: `http://127.0.0.1:${ports.WORKER_PORT}`,
    output: () => output.join(""),
    /** A crash: SIGKILL to each wrangler's process group, then to the script itself. */
    async crash() {
      for (const pid of childrenOf(child.pid)) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      child.kill("SIGKILL");
      return exited;
    },
    /** Ctrl-C: the script stops both apps. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGINT");
      const timer = setTimeout(() => dev.crash(), 15_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  const deadline = Date.now() + 120_000;
  while (!dev.output().includes("Workflows starter is running")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await dev.crash();
      throw new Error(`npm run dev did not start:\n${dev.output().slice(-4000)}`);
    }
    await sleep(250);
  }
  return dev;
}
const run = Date.now().toString(36);
const order = (overrides) => ({
  order_id: `restart-${run}`,
  customer_email: "restart@example.com",
  items: [{ sku: "book", quantity: 1, unit_price_cents: 1500 }],
  settlement_seconds: 0,
  ...overrides,
});
const ids = (kind) => Array.from({ length: PER_KIND }, (_, i) => `rs-${run}-${kind}-${i}`);
const kinds = {
  waiting: { ids: ids("wait"), params: order({ items: [{ sku: "piano", quantity: 1, unit_price_cents: 250_000 }] }) },
  sleeping: { ids: ids("sleep"), params: order({ settlement_seconds: SLEEP_SECONDS }) },
  complete: { ids: ids("done"), params: order({}) },
};

const figures = {};
let server;
let exitCode = 1;
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

async function statuses(api, list) {
  const out = {};
  await pool(list.length, 20, async (i) => {
    const res = await api("GET", `/api/workflows/${WORKFLOW}/instances/${list[i]}`);
    out[list[i]] = res.body?.result?.status ?? `http ${res.status}`;
  });
  return out;
}
const count = (byId) => {
  const counts = {};
  for (const s of Object.values(byId)) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
};

async function waitAll(api, list, wanted, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = {};
  while (Date.now() < deadline) {
    last = await statuses(api, list);
    if (Object.values(last).every((s) => s === wanted)) break;
    await sleep(500);
  }
  return last;
}

try {
  const ports = {};
  for (const name of ["WORKER_PORT", "PAGES_PORT", "WORKER_INSPECTOR_PORT", "PAGES_INSPECTOR_PORT"]) {
    ports[name] = await freePort();
  }
  server = await startNpmRunDev(ports);
  let api = apiClient(server.baseUrl, token);
  console.log(`[${at()}] npm run dev up, the Worker on ${server.baseUrl} (pid ${server.pid})`);

  for (const [kind, { ids: list, params }] of Object.entries(kinds)) {
    await pool(list.length, 10, async (i) => {
      const res = await api("POST", `/api/workflows/${WORKFLOW}/instances`, { instance_id: list[i], params });
      if (res.status !== 201) throw new Error(`create ${kind} ${list[i]}: ${res.status} ${res.text}`);
    });
  }
  const done = await waitAll(api, kinds.complete.ids, "complete", 30_000);
  figures.before_kill = { complete: count(done) };

  // Agent schedules due after the restart (none once the Agent is removed).
  const scheduled = [];
  /** When the last of them is due (ms). */
  const due = { agent: 0 };
  // part: agent (from here)
  // The Agent is part of this Worker: any answer but 201 (a 404 from a broken route included)
  // fails the run.
  scheduled.push(...ids("agent").slice(0, 3));
  for (const instance_id of scheduled) {
    const res = await api("POST", `/agents/workflow-scheduler/${AGENT}/schedules`, {
      workflow: WORKFLOW,
      instance_id,
      params: order({}),
      delay_seconds: AGENT_DELAY_SECONDS,
    });
    if (res.status !== 201) throw new Error(`agent schedule ${instance_id}: ${res.status} ${res.text}`);
  }
  due.agent = Date.now() + AGENT_DELAY_SECONDS * 1000;
  // part: agent (to here)
  console.log(
    `[${at()}] created ${PER_KIND} waiting, ${PER_KIND} sleeping (${SLEEP_SECONDS} s), ${PER_KIND} complete; agent schedules: ${scheduled.length}`,
  );

  // Let every sleeper enter its sleep, then crash the server.
  await sleep(3_000);
  const sleepEndsAt = Date.now() + SLEEP_SECONDS * 1000;
  figures.before_kill.waiting = count(await statuses(api, kinds.waiting.ids));
  figures.before_kill.sleeping = count(await statuses(api, kinds.sleeping.ids));
  const killed = await server.crash();
  console.log(
    `[${at()}] SIGKILL to both wranglers' process groups and to npm run dev (exit: ${killed.signal ?? killed.code})`,
  );

  const restartStarted = Date.now();
  server = await startNpmRunDev(ports);
  api = apiClient(server.baseUrl, token);
  figures.restart_s = Number(((Date.now() - restartStarted) / 1000).toFixed(1));
  // What npm run dev said it recovered, by itself, before it announced the apps.
  figures.dev_recovered = Number(/paused and resumed (\d+) instance/.exec(server.output())?.[1] ?? 0);
  console.log(`[${at()}] npm run dev restarted on the same state in ${figures.restart_s} s`);

  // What survived?
  const after = {};
  for (const [kind, { ids: list }] of Object.entries(kinds)) after[kind] = count(await statuses(api, list));
  figures.after_restart = after;

  // Waiting instances: send their events now.
  await pool(kinds.waiting.ids.length, 10, async (i) => {
    const res = await api("POST", `/api/workflows/${WORKFLOW}/instances/${kinds.waiting.ids[i]}/events/approval`, {
      approved: true,
      by: "restart-test",
    });
    if (res.status !== 202) throw new Error(`event to ${kinds.waiting.ids[i]}: ${res.status} ${res.text}`);
  });
  figures.waiting_completed_after_event = count(await waitAll(api, kinds.waiting.ids, "complete", 60_000));

  // Sleepers: nobody recovers them here; npm run dev did. Give their timers time to end (plus
  // a margin), then look, and wait for the rest.
  await sleep(Math.max(0, sleepEndsAt - Date.now()) + 10_000);
  figures.sleeping_10s_after_their_timer = count(await statuses(api, kinds.sleeping.ids));
  figures.sleeping_end = count(await waitAll(api, kinds.sleeping.ids, "complete", 60_000));

  if (scheduled.length) {
    await sleep(Math.max(0, due.agent - Date.now()) + 2_000);
    figures.agent_schedules = count(await waitAll(api, scheduled, "complete", 60_000));
  }
  figures.complete_after_restart = count(await statuses(api, kinds.complete.ids));

  console.log(JSON.stringify(figures, null, 2));
  const allComplete = (byStatus, n) => byStatus.complete === n;
  const ok =
    allComplete(figures.complete_after_restart, PER_KIND) &&
    allComplete(figures.waiting_completed_after_event, PER_KIND) &&
    allComplete(figures.sleeping_end, PER_KIND) &&
    figures.dev_recovered >= PER_KIND &&
    (scheduled.length === 0 || allComplete(figures.agent_schedules, scheduled.length));
  console.log(
    ok
      ? `restart: OK (nothing lost; npm run dev paused and resumed ${figures.dev_recovered} instance(s) by itself, the ${PER_KIND} sleepers among them)`
      : "restart: FAILED",
  );
  exitCode = ok ? 0 : 1;
} catch (error) {
  console.error("restart: FAILED", error);
  console.log(JSON.stringify(figures, null, 2));
  if (server) console.error(server.output().slice(-3000));
} finally {
  if (server) await server.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(exitCode);
