// `npm run bench`: measures the Worker as it is in the tree, against baselines measured in
// the same run, and prints one table. Never part of `npm test`.
//
// 1. status read: the Hono API vs a plain fetch handler (bench/baseline-worker.ts)
// 2. instance creation: the API vs a loop calling the Workflow binding directly, with
//    orders that park in their settlement sleep (so runs do not compete with creates)
// 3. end to end: N small orders (MyWorkflow, settlement 0) created, until all complete
// 4. the instance index's write rate: records and milestones into one index object
// 5. listing: one 20-row page with 20, 2,000 and 10,000 unfinished instances (bench/listing.mjs)
// 5b. history: reading a 1,000-step run vs a 10-step one; a step's event reaching a subscriber (bench/history.mjs)
// 6. deploy bundle size and its largest parts; startup CPU (`wrangler check startup`)
// 7. `npm test` wall time
//
// Both Workers are built with `wrangler deploy --dry-run` and served by Miniflare
// (workerd, no dev proxy) on free loopback ports, each with its own state directory,
// and stopped by their own PID. Measurements alternate baseline and candidate, in
// swapped order each round; each figure is the median over the rounds, each ratio the
// median of the per-round ratios.
//
// Knobs (environment): BENCH_ROUNDS (5, creation), BENCH_READ_ROUNDS (9), BENCH_STATUS_MS
// (1600 per side per round), BENCH_CONCURRENCY (8),
// BENCH_INSTANCES (100, end to end), BENCH_CREATES (300, creation), BENCH_STARTUP_RUNS (3), BENCH_TEST_RUNS (3; 0 skips npm test),
// BENCH_STATE_ROOT (where server state goes: /dev/shm when present, else the temp dir),
// BENCH_LIST_SIZES (20,2000,10000), BENCH_LIST_SAMPLES (15), BENCH_LIST_GAP_MS (1000),
// BENCH_ONLY (comma-separated sections to run, default all: status, creation, end-to-end,
// index, listing, bundle, tests; e.g. BENCH_ONLY=listing), BENCH_TIME_LIMIT_MIN (10, plus 30 with listing).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { build, bundleSize, contributors, kib, ownerOf, wrangler } from "./bundle.mjs";
import { benchHistory, HISTORY_WORKFLOWS, historyRows } from "./history.mjs";
import { benchListing, listingRows } from "./listing.mjs";
import { keepAliveAgent, quantile, request, runLoad } from "./load.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// Status reads are cheap and noisy on a shared machine: more, shorter rounds.
const READ_ROUNDS = Number(process.env.BENCH_READ_ROUNDS ?? 9);
const STATUS_MS = Number(process.env.BENCH_STATUS_MS ?? 1600);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 100);
/** Creates per side per creation round: more than INSTANCES, so a round outlasts the noise. */
const CREATES = Number(process.env.BENCH_CREATES ?? 300);
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
const TEST_RUNS = Number(process.env.BENCH_TEST_RUNS ?? 3);
const SECTIONS = ["status", "creation", "end-to-end", "index", "listing", "history", "bundle", "tests"];
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
const unknownSections = [...ONLY].filter((s) => !SECTIONS.includes(s));
if (unknownSections.length) {
  console.error(`BENCH_ONLY: unknown section(s) ${unknownSections.join(", ")}; known: ${SECTIONS.join(", ")}`);
  process.exit(2);
}
const wants = (section) => ONLY.size === 0 || ONLY.has(section);
/** The sections that compare the API with the baseline Worker, side by side. */
const PAIR = wants("status") || wants("creation") || wants("end-to-end") || wants("index");
// Creating 10,000 instances for the listing rows takes minutes on a small machine.
const TIME_LIMIT_MS = (Number(process.env.BENCH_TIME_LIMIT_MIN ?? 10) + (wants("listing") ? 30 : 0)) * 60_000;

const TOKEN = `bench-${randomUUID()}`;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const WORKFLOW = "my-workflow";
/** A small order: no approval, no settlement sleep, runs straight to `complete`. */
const SMALL_ORDER = {
  order_id: "bench-order",
  customer_email: "bench@example.com",
  items: [{ sku: "book", quantity: 2, unit_price_cents: 1500 }],
  settlement_seconds: 0,
};
/**
 * The same order with an hour-long settlement window: each instance runs its first steps
 * and then sleeps. Creation is measured with these, so that what is timed is the create
 * path, not earlier instances' runs competing with it for the CPU: with instances that run
 * to completion at once, the slower side overlaps more of their execution, and the ratio
 * says more about that overlap than about the create path.
 */
const PARKED_ORDER = { ...SMALL_ORDER, settlement_seconds: 3600 };

const started = performance.now();
const loadAtStart = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(" ");
const work = mkdtempSync(join(os.tmpdir(), "workflows-bench-"));
// Server state (Workflow engines, Durable Object SQLite) on tmpfs when there is one, so
// disk flushes do not drown the code being measured. BENCH_STATE_ROOT=/tmp measures with them.
const stateRoot = mkdtempSync(
  join(process.env.BENCH_STATE_ROOT ?? (existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir()), "workflows-bench-state-"),
);
const servers = [];
const log = (message) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${message}\n`);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds used so far by the workerd child of a server (Linux /proc; undefined
 * elsewhere). Unlike throughput, CPU per request hardly moves when other processes
 * compete for the machine.
 */
function workerdCpuSeconds(server) {
  try {
    server.workerdPid ??= readdirSync("/proc").find((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, comm] = /\((.*)\)/.exec(stat) ?? [];
      return comm === "workerd" && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === server.pid;
    });
    const pid = server.workerdPid;
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [utime, stime] = fields
      .slice(fields.lastIndexOf(")") + 2)
      .split(" ")
      .slice(11, 13)
      .map(Number);
    return (utime + stime) / 100;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- servers

/** Starts bench/serve.mjs for a built bundle; resolves once it answers. */
function startServer(label, bundleDir, env = {}) {
  const child = spawn(process.execPath, ["bench/serve.mjs", bundleDir, join(stateRoot, label), TOKEN], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  const server = {
    label,
    pid: child.pid,
    url: "",
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(server.pid, "SIGTERM");
      const timer = setTimeout(() => child.exitCode === null && process.kill(server.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  servers.push(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} server did not start in 60 s:\n${output}`)), 60_000);
    child.stderr.on("data", (d) => (output += d));
    child.stdout.on("data", (d) => {
      output += d;
      const line = output.split("\n").find((l) => l.startsWith('{"url"'));
      if (line && !server.url) {
        server.url = JSON.parse(line).url;
        clearTimeout(timer);
        resolve(server);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!server.url) reject(new Error(`${label} server exited with ${code}:\n${output}`));
    });
  });
}

async function stopServers() {
  await Promise.all(servers.map((s) => s.stop().catch(() => {})));
}

async function cleanup() {
  await stopServers();
  rmSync(work, { recursive: true, force: true });
  rmSync(stateRoot, { recursive: true, force: true });
}

process.on("SIGINT", async () => {
  await cleanup();
  process.exit(130);
});
setTimeout(async () => {
  console.error(`bench exceeded ${TIME_LIMIT_MS / 60000} minutes; stopping`);
  await cleanup();
  process.exit(1);
}, TIME_LIMIT_MS).unref();

// ---------------------------------------------------------------- helpers

const agent = keepAliveAgent(CONCURRENCY);
async function call(server, method, path, body, headers = AUTH) {
  const res = await request(agent, new URL(path, server.url), {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  let json;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = res.text;
  }
  return { status: res.status, body: json };
}

const instancePath = (id) => `/api/workflows/${WORKFLOW}/instances/${encodeURIComponent(id)}`;

/** Polls each instance's status over HTTP until all are finished; returns how many completed. */
async function waitAllFinished(server, ids, timeoutMs = 120_000) {
  const pending = new Set(ids);
  let completed = 0;
  const deadline = performance.now() + timeoutMs;
  while (pending.size > 0) {
    if (performance.now() > deadline)
      throw new Error(`${server.label}: ${pending.size} instances still running after ${timeoutMs} ms`);
    const batch = [...pending];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(4, batch.length) }, async () => {
        while (next < batch.length) {
          const id = batch[next++];
          const res = await call(server, "GET", instancePath(id));
          const status = res.body?.result?.status;
          if (status === "complete") completed++;
          if (status === "complete" || status === "errored" || status === "terminated") pending.delete(id);
        }
      }),
    );
    if (pending.size > 0) await sleep(50);
  }
  return completed;
}

// ---------------------------------------------------------------- parity

/**
 * Before measuring, both Workers must give the same answers: same status and same
 * envelope for the routes measured and for the error paths.
 */
async function checkParity(candidate, baseline) {
  const cases = [
    ["GET", "/health", undefined, {}],
    ["GET", `/api/workflows/${WORKFLOW}/instances?per_page=5`],
    ["POST", `/api/workflows/${WORKFLOW}/instances`, { instance_id: "parity-1", params: SMALL_ORDER }],
    ["POST", `/api/workflows/${WORKFLOW}/instances`, { instance_id: "parity-1", params: SMALL_ORDER }],
    ["POST", `/api/workflows/${WORKFLOW}/instances`, { params: { ...SMALL_ORDER, items: [] } }],
    ["POST", `/api/workflows/${WORKFLOW}/instances`, "{not json"],
    ["POST", `/api/workflows/${WORKFLOW}/instances`, { instance_id: "bad id" }],
    ["GET", instancePath("parity-missing")],
    ["GET", instancePath("-bad")],
    ["GET", instancePath("parity-1"), undefined, {}],
    ["GET", instancePath("parity-1"), undefined, { authorization: "Bearer wrong-token" }],
    ["GET", instancePath("parity-1"), undefined, { authorization: "Basic abc" }],
    ["PUT", instancePath("parity-1")],
    ["GET", "/api/workflows/no-such-workflow/instances/x"],
    ["GET", "/api/nothing-here"],
  ];
  // Differ between two servers by nature: the Worker version id and timestamps.
  const VOLATILE = /^(versionId|version_id|created_on|ended_on|modified_on|queued|start|end|timestamp|at)$/;
  const same = (a, b) =>
    a.status === b.status &&
    JSON.stringify(a.body, (k, v) => (VOLATILE.test(k) ? "*" : v)) ===
      JSON.stringify(b.body, (k, v) => (VOLATILE.test(k) ? "*" : v));
  const mismatches = [];
  for (const [method, path, body, headers] of cases) {
    const [a, b] = await Promise.all([candidate, baseline].map((s) => call(s, method, path, body, headers ?? AUTH)));
    if (!same(a, b)) {
      mismatches.push(
        `${method} ${path}: API ${a.status} ${JSON.stringify(a.body)} / baseline ${b.status} ${JSON.stringify(b.body)}`,
      );
    }
  }
  // The measured read, on a finished instance (its output is part of the answer).
  await Promise.all([candidate, baseline].map((s) => waitAllFinished(s, ["parity-1"])));
  const [a, b] = await Promise.all([candidate, baseline].map((s) => call(s, "GET", instancePath("parity-1"))));
  if (a.status !== 200 || !same(a, b)) {
    mismatches.push(
      `GET ${instancePath("parity-1")}: API ${a.status} ${JSON.stringify(a.body)} / baseline ${b.status} ${JSON.stringify(b.body)}`,
    );
  }
  // Headers: report a drift (the baseline copies the API's header set by hand).
  const names = async (s) => {
    const res = await fetch(new URL(instancePath("parity-1"), s.url), { headers: AUTH });
    await res.arrayBuffer();
    return [...res.headers.keys()]
      .filter((h) => !["date", "content-length", "connection", "keep-alive"].includes(h))
      .sort();
  };
  const [ha, hb] = await Promise.all([names(candidate), names(baseline)]);
  const headerDrift = ha.join() === hb.join() ? "" : `API headers [${ha.join(", ")}] vs baseline [${hb.join(", ")}]`;
  return { mismatches, headerDrift };
}

// ---------------------------------------------------------------- measurements

/** GET of one finished instance, as fast as CONCURRENCY clients can, for STATUS_MS. */
const statusRead = (server, maxMs = STATUS_MS) =>
  runLoad({
    baseUrl: server.url,
    makeRequest: () => ({ path: instancePath("parity-1"), headers: AUTH }),
    concurrency: CONCURRENCY,
    maxRequests: 1_000_000,
    maxMs,
    expectStatus: 200,
  });

/**
 * Waits until the server's workerd has been nearly idle for 200 ms (the instances just
 * created have run their first steps), at most `maxMs`; a fixed second where /proc is absent.
 */
async function quiesce(server, maxMs = 10_000) {
  if (workerdCpuSeconds(server) === undefined) return sleep(1000);
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const before = workerdCpuSeconds(server);
    await sleep(200);
    if (workerdCpuSeconds(server) - before < 0.02) return;
  }
}

/**
 * Creates `count` orders through the server's HTTP API; with `untilFinished`, then waits
 * until all finished. Without it, waits until workerd is idle again and reports the CPU the
 * creates and the instances' first steps took.
 */
async function createThroughApi(server, { count = INSTANCES, params = SMALL_ORDER, untilFinished = true } = {}) {
  const ids = [];
  const body = JSON.stringify({ params });
  const cpuBefore = workerdCpuSeconds(server);
  const t0 = performance.now();
  const load = await runLoad({
    baseUrl: server.url,
    makeRequest: () => ({ path: `/api/workflows/${WORKFLOW}/instances`, method: "POST", headers: AUTH, body }),
    concurrency: CONCURRENCY,
    maxRequests: count,
    maxMs: 120_000,
    expectStatus: 201,
    onResponse: (res) => {
      const id = JSON.parse(res.text)?.result?.id;
      if (id) ids.push(id);
    },
  });
  const createMs = performance.now() - t0;
  return {
    createMs,
    ...(await afterCreates(server, ids, t0, cpuBefore, untilFinished)),
    created: ids.length,
    errors: load.errors,
    firstError: load.firstError,
  };
}

/**
 * The same creates as one loop inside the baseline Worker, then the same wait: `binding`
 * calls env.MY_WORKFLOW.create, `indexed` adds the instance index's record, `core` calls
 * the API's createInstance (no HTTP, no Hono).
 */
async function createInWorker(server, mode, { count = INSTANCES, params = SMALL_ORDER, untilFinished = true } = {}) {
  const cpuBefore = workerdCpuSeconds(server);
  const t0 = performance.now();
  const res = await call(server, "POST", "/bench/create-loop", { mode, count, concurrency: CONCURRENCY, params });
  const createMs = performance.now() - t0;
  if (res.status !== 200) throw new Error(`create-loop failed: ${res.status} ${JSON.stringify(res.body)}`);
  const ids = res.body.ids;
  return {
    createMs,
    ...(await afterCreates(server, ids, t0, cpuBefore, untilFinished)),
    created: ids.length,
    errors: count - ids.length,
  };
}

async function afterCreates(server, ids, t0, cpuBefore, untilFinished) {
  if (untilFinished) {
    const completed = await waitAllFinished(server, ids);
    return { completed, endToEndMs: performance.now() - t0 };
  }
  await quiesce(server);
  return { completed: ids.length, cpuMsPerCreate: ((workerdCpuSeconds(server) - cpuBefore) * 1000) / ids.length };
}

// ---------------------------------------------------------------- startup profile

/** Self time per (mapped) function and per package, from a V8 .cpuprofile. */
function analyseProfile(profile, sourceMap, totals) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id)?.callFrame;
    totals.sampled += dt;
    if (!frame || frame.functionName === "(idle)") {
      totals.idle += dt;
      return;
    }
    let owner = frame.functionName || "(anonymous)";
    let where = owner;
    if (frame.url && frame.lineNumber >= 0 && sourceMap) {
      const entry = sourceMap.findEntry(frame.lineNumber, frame.columnNumber);
      if (entry?.originalSource) {
        owner = ownerOf(entry.originalSource);
        const file = entry.originalSource.replace(/^.*node_modules\//, "").replace(/^(\.\.\/)+/, "");
        where = `${entry.name ?? frame.functionName ?? "(anonymous)"} ${file}:${entry.originalLine + 1}`;
      }
    } else if (frame.url) {
      owner = "(module top level)";
      where = owner;
    }
    totals.byOwner.set(owner, (totals.byOwner.get(owner) ?? 0) + dt);
    totals.byFunction.set(where, (totals.byFunction.get(where) ?? 0) + dt);
  });
}

async function startupProfile(candidateDir) {
  const mapFile = join(candidateDir, "index.js.map");
  let sourceMap;
  try {
    sourceMap = new SourceMap(JSON.parse(readFileSync(mapFile, "utf8")));
  } catch {
    sourceMap = undefined;
  }
  const totals = { sampled: 0, idle: 0, byOwner: new Map(), byFunction: new Map() };
  const active = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const outfile = join(work, `startup-${i}.cpuprofile`);
    // `check startup` builds the same bundle (same config) and profiles its module evaluation.
    await wrangler(["check", "startup", "--outfile", outfile]);
    const profile = JSON.parse(readFileSync(outfile, "utf8"));
    const before = { sampled: totals.sampled, idle: totals.idle };
    analyseProfile(profile, sourceMap, totals);
    active.push((totals.sampled - before.sampled - (totals.idle - before.idle)) / 1000);
  }
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `${k} ${(us / 1000 / STARTUP_RUNS).toFixed(1)}`);
  return { activeMs: median(active), byOwner: top(totals.byOwner, 5), byFunction: top(totals.byFunction, 5) };
}

// ---------------------------------------------------------------- npm test

async function timeTests() {
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm, "test"]] : ["npm", ["test"]];
  const runs = [];
  for (let i = 0; i < TEST_RUNS; i++) {
    const t0 = performance.now();
    const { code, output } = await new Promise((resolve) => {
      const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("close", (c) => resolve({ code: c, output: out }));
    });
    const seconds = (performance.now() - t0) / 1000;
    const plain = stripVTControlCharacters(output);
    const tests = /^\s*Tests\s+(\d.*?)\s*$/m.exec(plain)?.[1] ?? "?";
    const failed = [...new Set(plain.match(/^\s*FAIL\s.*$/gm) ?? [])].map((l) => l.trim()).slice(0, 5);
    runs.push({ seconds, ok: code === 0, tests, failed });
  }
  return runs;
}

// ---------------------------------------------------------------- main

const rows = [];
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const verdict = (ok) => (ok ? "met" : "MISSED");

try {
  log(`building the deploy bundle and the baseline (work dir ${work})`);
  const candidateDir = join(work, "candidate");
  const baselineDir = join(work, "baseline");
  await build(candidateDir);
  if (PAIR) await build(baselineDir, "bench/baseline-worker.ts");

  let candidate;
  let baseline;
  if (PAIR) {
    log("starting both Workers");
    [candidate, baseline] = await Promise.all([startServer("api", candidateDir), startServer("baseline", baselineDir)]);
    log(`API on ${candidate.url} (pid ${candidate.pid}), baseline on ${baseline.url} (pid ${baseline.pid})`);

    const parity = await checkParity(candidate, baseline);
    if (parity.mismatches.length) {
      throw new Error(
        `the baseline does not answer like the API; fix bench/baseline-worker.ts:\n${parity.mismatches.join("\n")}`,
      );
    }
    if (parity.headerDrift) log(`header drift (not a failure): ${parity.headerDrift}`);

    // Warm both isolates and engines; discarded.
    for (const s of [candidate, baseline]) await statusRead(s, 500);
    await createThroughApi(candidate, { count: 10 });
    for (const mode of ["binding", "indexed", "core"]) await createInWorker(baseline, mode, { count: 10 });
    await createThroughApi(baseline, { count: 10 });
  }

  const reads = { api: [], baseline: [], ratio: [] };
  if (wants("status")) {
    for (let r = 0; r < READ_ROUNDS; r++) {
      log(`round ${r + 1}/${READ_ROUNDS}: status reads`);
      // Four half slices in A B B A order (the other way round next round), so a load
      // change on the machine during the round weighs on both sides alike.
      const [first, second] = r % 2 === 0 ? ["baseline", "api"] : ["api", "baseline"];
      const slices = { api: [], baseline: [] };
      for (const side of [first, second, second, first]) {
        const server = side === "api" ? candidate : baseline;
        const cpuBefore = workerdCpuSeconds(server);
        const slice = await statusRead(server, STATUS_MS / 2);
        slice.cpuSeconds = workerdCpuSeconds(server) - cpuBefore;
        if (slice.errors) throw new Error(`${side} status read: ${slice.errors} errors, first: ${slice.firstError}`);
        slices[side].push(slice);
      }
      for (const side of ["api", "baseline"]) {
        const latencies = slices[side].flatMap((x) => x.latencies).sort((a, b) => a - b);
        const elapsedMs = slices[side].reduce((sum, x) => sum + x.elapsedMs, 0);
        const cpuMs = slices[side].reduce((sum, x) => sum + x.cpuSeconds, 0) * 1000;
        reads[side].push({
          perSecond: (latencies.length / elapsedMs) * 1000,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          cpuPerRequest: cpuMs / latencies.length,
        });
      }
      reads.ratio.push(reads.api.at(-1).perSecond / reads.baseline.at(-1).perSecond);
      const [a, b] = [reads.api.at(-1), reads.baseline.at(-1)];
      log(
        `  API ${a.perSecond.toFixed(0)} req/s ${a.cpuPerRequest.toFixed(2)} ms CPU; baseline ${b.perSecond.toFixed(0)} req/s ${b.cpuPerRequest.toFixed(2)} ms CPU`,
      );
    }
  }
  // api: Hono over HTTP; plain: the baseline's fetch handler over HTTP; core: createInstance
  // in a loop inside the Worker; indexed: env.MY_WORKFLOW.create plus the index record in a
  // loop; binding: env.MY_WORKFLOW.create in a loop inside the Worker.
  const run = (side, options) =>
    side === "api"
      ? createThroughApi(candidate, options)
      : side === "plain"
        ? createThroughApi(baseline, options)
        : createInWorker(baseline, side, options);
  const check = (side, m, count) => {
    if (m.errors || m.completed !== count) {
      throw new Error(`${side} creates: ${m.errors} errors, ${m.completed}/${count} completed; ${m.firstError ?? ""}`);
    }
  };
  // Per-round ratio of two sides' medians-to-be (a / b).
  const perRound = (series, a, b) => series[a].map((x, i) => x / series[b][i]);

  const SIDES = ["api", "binding", "plain", "core", "indexed"];
  const creates = Object.fromEntries(SIDES.map((side) => [side, []]));
  const createCpu = Object.fromEntries(SIDES.map((side) => [side, []]));
  if (wants("creation")) {
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}: ${CREATES} creates per side of orders that park in their settlement sleep`);
      // Rotate the order so no side always runs first (or right after the same other side).
      for (const side of SIDES.map((_, i) => SIDES[(i + r) % SIDES.length])) {
        await Promise.all([candidate, baseline].map(quiesce));
        const m = await run(side, { count: CREATES, params: PARKED_ORDER, untilFinished: false });
        check(side, m, CREATES);
        creates[side].push((CREATES / m.createMs) * 1000);
        createCpu[side].push(m.cpuMsPerCreate);
      }
    }
  }
  const ENDS = ["api", "binding"];
  const ends = Object.fromEntries(ENDS.map((side) => [side, []]));
  if (wants("end-to-end")) {
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}: ${INSTANCES} small orders per side, each until all complete`);
      for (const side of r % 2 === 0 ? ENDS : [...ENDS].reverse()) {
        await Promise.all([candidate, baseline].map(quiesce));
        const m = await run(side, { params: SMALL_ORDER, untilFinished: true });
        check(side, m, INSTANCES);
        ends[side].push((INSTANCES / m.endToEndMs) * 1000);
      }
    }
  }
  // What one index object takes (the case for or against sharding it): small writes, 50 callers.
  const INDEX_WRITES = 3000;
  const indexWrites = { record: [], milestone: [] };
  if (wants("index")) {
    for (let r = 0; r < ROUNDS; r++) {
      log(`round ${r + 1}/${ROUNDS}: ${INDEX_WRITES} records and ${INDEX_WRITES} milestones into one index object`);
      for (const kind of r % 2 === 0 ? ["record", "milestone"] : ["milestone", "record"]) {
        await quiesce(baseline);
        const res = await call(baseline, "POST", "/bench/index-writes", { kind, count: INDEX_WRITES, concurrency: 50 });
        if (res.status !== 200) throw new Error(`index writes: ${res.status} ${JSON.stringify(res.body)}`);
        indexWrites[kind].push((INDEX_WRITES / res.body.elapsed_ms) * 1000);
      }
    }
  }
  // The floor any HTTP front pays: a request that does no work (`GET /health`), per request.
  const floor = { api: [], baseline: [] };
  if (wants("creation")) {
    for (let r = 0; r < 3; r++) {
      for (const [side, server] of [
        ["api", candidate],
        ["baseline", baseline],
      ]) {
        const before = workerdCpuSeconds(server);
        const load = await runLoad({
          baseUrl: server.url,
          makeRequest: () => ({ path: "/health" }),
          concurrency: CONCURRENCY,
          maxRequests: 1_000_000,
          maxMs: 800,
          expectStatus: 200,
        });
        floor[side].push(((workerdCpuSeconds(server) - before) * 1000) / load.requests);
      }
    }
  }
  await stopServers();
  log("servers stopped");

  if (wants("status")) {
    const readRatio = median(reads.ratio);
    rows.push([
      `status read (GET instance), req/s, ${CONCURRENCY} concurrent`,
      fmt(median(reads.api.map((x) => x.perSecond))),
      fmt(median(reads.baseline.map((x) => x.perSecond))),
      fmt(readRatio, 3),
      `>= 0.95 (${verdict(readRatio >= 0.95)})`,
    ]);
    rows.push([
      "status read latency p50 / p99, ms",
      `${fmt(median(reads.api.map((x) => x.p50)), 2)} / ${fmt(median(reads.api.map((x) => x.p99)), 2)}`,
      `${fmt(median(reads.baseline.map((x) => x.p50)), 2)} / ${fmt(median(reads.baseline.map((x) => x.p99)), 2)}`,
      "",
      "",
    ]);
    const cpuPerRead = (side) => median(reads[side].map((x) => x.cpuPerRequest));
    if (Number.isFinite(cpuPerRead("api"))) {
      rows.push([
        "status read, workerd CPU ms per request (cost: lower is better)",
        fmt(cpuPerRead("api"), 3),
        fmt(cpuPerRead("baseline"), 3),
        fmt(cpuPerRead("api") / cpuPerRead("baseline"), 3),
        "steadier than req/s on a busy machine",
      ]);
    }
  }
  if (wants("creation")) {
    const createRatio = median(perRound(creates, "api", "binding"));
    // The workerd CPU per create of both sides (steadier than throughput on a busy machine).
    const cpuNote = (a, b) =>
      createCpu[a].every(Number.isFinite) && createCpu[b].every(Number.isFinite)
        ? `; CPU per create ${fmt(median(createCpu[a]), 2)} vs ${fmt(median(createCpu[b]), 2)} ms (${fmt(median(perRound(createCpu, a, b)), 3)})`
        : "";
    const createRow = (label, a, b, target) => [
      `instance creation, creates/s: ${label}`,
      fmt(median(creates[a]), 1),
      fmt(median(creates[b]), 1),
      fmt(median(perRound(creates, a, b)), 3),
      `${target}${cpuNote(a, b)}`,
    ];
    rows.push(
      createRow(
        `API vs env.MY_WORKFLOW.create loop in the Worker, ${CONCURRENCY} concurrent`,
        "api",
        "binding",
        `>= 0.9 (${verdict(createRatio >= 0.9)})`,
      ),
    );
    rows.push(
      createRow("API vs the plain fetch handler (both over HTTP)", "api", "plain", "what Hono and its middleware cost"),
    );
    rows.push(
      createRow(
        "plain fetch handler vs createInstance loop in the Worker",
        "plain",
        "core",
        "what one HTTP request per create costs",
      ),
    );
    rows.push(
      createRow(
        "createInstance loop vs env.MY_WORKFLOW.create loop",
        "core",
        "binding",
        "what the core adds (validation, instance index)",
      ),
    );
    rows.push(
      createRow(
        "binding loop + instance index record vs binding loop",
        "indexed",
        "binding",
        "what recording in the instance index costs",
      ),
    );
    if (floor.api.every(Number.isFinite)) {
      rows.push([
        "HTTP floor: GET /health (no work), workerd CPU ms per request",
        fmt(median(floor.api), 3),
        fmt(median(floor.baseline), 3),
        fmt(median(perRound(floor, "api", "baseline")), 3),
        `what one request costs before any work; ${fmt((median(floor.api) / median(createCpu.binding)) * 100, 1)}% of a binding create's CPU`,
      ]);
    }
  }
  if (wants("end-to-end")) {
    rows.push([
      `end to end: ${INSTANCES} small orders (MyWorkflow, settlement 0) from first create until all complete (polled over HTTP), instances/s`,
      fmt(median(ends.api), 1),
      fmt(median(ends.binding), 1),
      fmt(median(perRound(ends, "api", "binding")), 3),
      "no target (baseline: created by the binding loop, same polling)",
    ]);
  }

  if (wants("index")) {
    rows.push([
      "instance index, one object: records / milestones per second, 50 concurrent callers in the Worker",
      `${fmt(median(indexWrites.record))} / ${fmt(median(indexWrites.milestone))}`,
      "",
      "",
      "vs the platform's cap of 100 creates/s per workflow, about 5 index writes per order",
    ]);
  }

  if (wants("listing")) {
    log("listing: a server of its own");
    const listing = await startServer("listing", candidateDir);
    const figures = await benchListing({
      server: listing,
      call,
      request: (path, headers) => request(agent, new URL(path, listing.url), { headers }),
      idle: quiesce,
      log,
      workflow: WORKFLOW,
      auth: AUTH,
    });
    await listing.stop();
    rows.push(...listingRows(figures, fmt));
  }

  if (wants("history")) {
    log("history: a server of its own, with the bench's many-step workflow");
    const historyDir = join(work, "history");
    await build(historyDir, "bench/history-worker.ts");
    const server = await startServer("history", historyDir, { BENCH_WORKFLOWS: JSON.stringify(HISTORY_WORKFLOWS) });
    const figures = await benchHistory({ server, call, log, auth: AUTH });
    await server.stop();
    rows.push(...historyRows(figures, fmt));
  }

  if (wants("bundle")) {
    log("bundle size and startup profile");
    const size = bundleSize(candidateDir);
    const budget = JSON.parse(readFileSync(new URL("./bundle-budget.json", import.meta.url), "utf8"));
    rows.push([
      "deploy bundle (wrangler deploy --dry-run, as configured), size / gzip",
      `${kib(size.bytes)} / ${kib(size.gzipBytes)}`,
      "",
      "",
      `gzip <= ${kib(budget.gzip_bytes_max)} (${verdict(size.gzipBytes <= budget.gzip_bytes_max)})`,
    ]);
    rows.push([
      "bundle: largest parts (minified bytes, share)",
      contributors(candidateDir)
        .slice(0, 6)
        .map((c) => `${c.owner} ${kib(c.bytes)} ${Math.round(c.share * 100)}%`)
        .join("; "),
      "",
      "",
      "",
    ]);
    const startup = await startupProfile(candidateDir);
    rows.push([
      `startup CPU (wrangler check startup), active ms, median of ${STARTUP_RUNS}`,
      fmt(startup.activeMs, 1),
      "",
      "",
      "",
    ]);
    rows.push(["startup self time by package, ms per run", startup.byOwner.join("; "), "", "", ""]);
    rows.push(["startup top self-time functions, ms per run", startup.byFunction.join("; "), "", "", ""]);
  }

  if (wants("tests") && TEST_RUNS > 0) {
    log(`npm test x${TEST_RUNS}`);
    const runs = await timeTests();
    const seconds = median(runs.map((r) => r.seconds));
    const allOk = runs.every((r) => r.ok);
    for (const run of runs.filter((r) => !r.ok)) log(`npm test failed (${run.tests}):\n  ${run.failed.join("\n  ")}`);
    rows.push([
      `npm test wall time, s, median of ${runs.length}`,
      `${fmt(seconds, 1)} (${allOk ? "passed" : "FAILED"}: ${runs[0].tests})`,
      "",
      "",
      `< 60 s (${verdict(seconds < 60)})`,
    ]);
  }

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  console.log(
    `\nMachine: nproc ${os.availableParallelism()} (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${os.platform()} ${os.release()}, ${new Date().toISOString()}; load average at start ${loadAtStart}, at end ${load}`,
  );
  console.log(
    `Rounds: ${READ_ROUNDS} for status reads (A-B-B-A slices), ${ROUNDS} for creation (order rotated), ${ROUNDS} end to end (order swapped); figures are medians, ratios the median of per-round ratios. Wall time ${((performance.now() - started) / 1000).toFixed(0)} s.\n`,
  );
  const header = ["benchmark", "API / candidate", "baseline", "ratio", "target"];
  const table = [header, header.map(() => "---"), ...rows];
  for (const row of table) console.log(`| ${row.map((c) => String(c).replaceAll("|", "\\|")).join(" | ")} |`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  agent.destroy();
  await cleanup();
}
