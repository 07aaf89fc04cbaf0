// Load test against a real `wrangler dev`: creates many order instances at a fixed
// concurrency, then polls until every accepted instance is complete. Checks that none
// was lost and none duplicated; prints the figures; exits non-zero on any loss,
// duplicate or 5xx. Loopback only, bounded in count and time; stops its own server.
//
//   npm run check:template -- load         # 1000 creates, 50 at a time
//   LOAD_CREATES=2000 LOAD_CONCURRENCY=100 npm run check:template -- load
//
// The create rate limit (wrangler.jsonc) is switched off for this server with
// `--var CREATE_RATE_LIMIT:off`. LOAD_RATE_LIMIT=on keeps it on: then one client gets
// its 100 creates a minute and 429s after, and the run checks that every refusal is a
// 429 with Retry-After and that every accepted instance completes.
import { rmSync } from "node:fs";
import { apiClient, newStateDir, newToken, pool, quantile, sleep, startDevServer } from "./lib/dev-server.mjs";

const CREATES = Number(process.env.LOAD_CREATES ?? 1000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 50);
const CREATE_BUDGET_MS = Number(process.env.LOAD_CREATE_BUDGET_MS ?? 90_000);
const SETTLE_BUDGET_MS = Number(process.env.LOAD_SETTLE_BUDGET_MS ?? 120_000);
const DUPLICATES = Math.min(50, CREATES);
const LIMITED = process.env.LOAD_RATE_LIMIT === "on";
const WORKFLOW = "my-workflow";

const stateDir = newStateDir("wf-load");
const token = newToken();
const run = Date.now().toString(36);
const idOf = (i) => `load-${run}-${i}`;
const order = (i) => ({
  order_id: `load-${i}`,
  customer_email: "load@example.com",
  items: [{ sku: "book", quantity: 1, unit_price_cents: 1000 + (i % 100) }],
  settlement_seconds: 0,
});

let server;
let exitCode = 1;
try {
  const bootStarted = performance.now();
  server = await startDevServer({ stateDir, token, vars: LIMITED ? {} : { CREATE_RATE_LIMIT: "off" } });
  console.log(
    `wrangler dev ready on ${server.baseUrl} (pid ${server.pid}) in ${((performance.now() - bootStarted) / 1000).toFixed(1)} s`,
  );
  const api = apiClient(server.baseUrl, token);

  // 1. Creates, CONCURRENCY at a time.
  const statuses = new Map(); // status -> count
  const accepted = new Set();
  const acceptedTwice = [];
  const latencies = [];
  const failures = [];
  const createsStarted = Date.now();
  const attempted = await pool(
    CREATES,
    CONCURRENCY,
    async (i) => {
      try {
        const res = await api("POST", `/api/workflows/${WORKFLOW}/instances`, {
          instance_id: idOf(i),
          params: order(i),
        });
        latencies.push(res.ms);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) {
          if (res.body?.result?.id !== idOf(i)) failures.push(`create ${i}: 201 for id ${res.body?.result?.id}`);
          if (accepted.has(idOf(i))) acceptedTwice.push(idOf(i));
          accepted.add(idOf(i));
        } else if (res.status === 429 && res.headers.get("retry-after")) {
          // refused by the rate limit, as configured
        } else if (failures.length < 5) {
          failures.push(`create ${i}: ${res.status} ${res.text.slice(0, 200)}`);
        }
      } catch (error) {
        statuses.set("network error", (statuses.get("network error") ?? 0) + 1);
        if (failures.length < 5) failures.push(`create ${i}: ${error}`);
      }
    },
    createsStarted + CREATE_BUDGET_MS,
  );
  const createMs = Date.now() - createsStarted;

  // 2. The same ids again, all at once: each must be refused with 409, none created twice.
  const duplicateStatuses = new Map();
  const duplicateIds = [...accepted].slice(0, DUPLICATES);
  await pool(duplicateIds.length, CONCURRENCY, async (k) => {
    const i = Number(duplicateIds[k].split("-").at(-1));
    const res = await api("POST", `/api/workflows/${WORKFLOW}/instances`, { instance_id: idOf(i), params: order(i) });
    duplicateStatuses.set(res.status, (duplicateStatuses.get(res.status) ?? 0) + 1);
  });

  // 3. Poll until every accepted instance is complete (or the budget runs out).
  const pending = new Set(accepted);
  const finalStatus = new Map();
  const settleStarted = Date.now();
  while (pending.size && Date.now() - settleStarted < SETTLE_BUDGET_MS) {
    const ids = [...pending];
    await pool(ids.length, CONCURRENCY, async (k) => {
      const id = ids[k];
      const res = await api("GET", `/api/workflows/${WORKFLOW}/instances/${id}`);
      const status = res.body?.result?.status ?? `http ${res.status}`;
      finalStatus.set(id, status);
      if (status === "complete") pending.delete(id);
    });
    if (pending.size) await sleep(500);
  }
  const allCompleteMs = Date.now() - createsStarted;

  // 4. Figures.
  latencies.sort((a, b) => a - b);
  const notComplete = [...pending];
  const byFinal = {};
  for (const id of notComplete) byFinal[finalStatus.get(id)] = (byFinal[finalStatus.get(id)] ?? 0) + 1;
  const serverErrors = [...statuses].filter(([s]) => typeof s === "number" && s >= 500).reduce((n, [, c]) => n + c, 0);
  const figures = {
    creates_attempted: attempted,
    concurrency: CONCURRENCY,
    accepted_201: accepted.size,
    rejected: Object.fromEntries([...statuses].filter(([s]) => s !== 201)),
    creates_per_second: Number((attempted / (createMs / 1000)).toFixed(1)),
    create_latency_ms: {
      p50: Number(quantile(latencies, 0.5).toFixed(1)),
      p99: Number(quantile(latencies, 0.99).toFixed(1)),
      max: Number(latencies.at(-1)?.toFixed(1)),
    },
    create_phase_s: Number((createMs / 1000).toFixed(1)),
    rate_limit: LIMITED ? "on" : "off",
    duplicate_creates: { sent: duplicateIds.length, statuses: Object.fromEntries(duplicateStatuses) },
    all_complete_s: pending.size ? null : Number((allCompleteMs / 1000).toFixed(1)),
    lost: notComplete.length,
    lost_by_status: byFinal,
    duplicated: acceptedTwice.length + (duplicateStatuses.get(201) ?? 0),
    server_errors_5xx: serverErrors,
  };
  console.log(JSON.stringify(figures, null, 2));
  for (const failure of failures) console.log(`  first failures: ${failure}`);

  // With the limit on, only 429s may be refused (and repeats of an id are limited too).
  const refusedOk = LIMITED
    ? [...statuses.keys()].every((s) => s === 201 || s === 429) &&
      [...duplicateStatuses.keys()].every((s) => s === 409 || s === 429)
    : accepted.size === CREATES && (duplicateStatuses.get(409) ?? 0) === duplicateIds.length;
  const ok =
    attempted === CREATES && refusedOk && notComplete.length === 0 && figures.duplicated === 0 && serverErrors === 0;
  console.log(ok ? "load: OK (none lost, none duplicated)" : "load: FAILED");
  exitCode = ok ? 0 : 1;
} catch (error) {
  console.error("load: FAILED", error);
  if (server) console.error(server.output().slice(-3000));
} finally {
  if (server) await server.stop("SIGTERM");
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(exitCode);
