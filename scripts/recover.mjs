// Recovers instances that a `wrangler dev` restart left stuck. Locally (wrangler 4.x), an
// instance that was inside `step.sleep` when the dev server stopped reports `running`
// after the restart but never wakes; pausing and resuming it re-arms its timer, and it
// continues where it was (completed steps are not run again). Production is not affected.
//
// `npm run dev` runs it by itself once the Worker is up (scripts/dev.mjs, `recoverAll`). By hand,
// for a Worker started otherwise (`npm run dev:worker`, `wrangler dev`):
//
//   npm run recover
//   npm run recover -- my-workflow --ids order-1,order-2
//
// It pauses and resumes every instance that reports `running` (instances waiting for an
// event are unaffected: events sent meanwhile are buffered). WORKER_URL (default
// http://localhost:8787) and API_TOKEN (default: API_TOKEN in .dev.vars) choose the Worker.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls the Worker's API; returns the parsed v4 envelope and the HTTP status. */
function client(baseUrl, token) {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
}

/** Ids of the instances of `workflow` the Worker's index lists as running. */
async function runningIds(api, workflow) {
  const ids = [];
  let cursor;
  for (let page = 0; page < 1000; page++) {
    const query = new URLSearchParams({ status: "running", per_page: "100", ...(cursor ? { cursor } : {}) });
    const res = await api("GET", `/api/workflows/${workflow}/instances?${query}`);
    if (res.status !== 200)
      throw new Error(`listing ${workflow}: HTTP ${res.status} ${JSON.stringify(res.body?.errors)}`);
    ids.push(...res.body.result.map((i) => i.id));
    cursor = res.body.result_info?.cursor;
    if (!cursor || res.body.result.length === 0) break;
  }
  return ids;
}

async function waitFor(api, workflow, id, wanted, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let status;
  while (Date.now() < deadline) {
    status = (await api("GET", `/api/workflows/${workflow}/instances/${id}`)).body?.result?.status;
    if (wanted.includes(status)) return status;
    await sleep(100);
  }
  return status;
}

/**
 * Pauses, then resumes, each running instance of `workflow` (or just `ids`).
 * @returns {Promise<{ id: string, outcome: string }[]>}
 */
export async function recover({ baseUrl, token, workflow, ids, concurrency = 10 }) {
  const api = client(baseUrl, token);
  const targets = ids ?? (await runningIds(api, workflow));
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, targets.length) }, async () => {
      while (next < targets.length) {
        const id = targets[next++];
        const current = (await api("GET", `/api/workflows/${workflow}/instances/${id}`)).body?.result?.status;
        if (current !== "running") {
          results.push({ id, outcome: `skipped (${current ?? "not found"})` });
          continue;
        }
        const paused = await api("PATCH", `/api/workflows/${workflow}/instances/${id}/status`, { status: "pause" });
        if (paused.status !== 200) {
          results.push({ id, outcome: `pause refused: ${paused.status} ${paused.body?.errors?.[0]?.message ?? ""}` });
          continue;
        }
        const reached = await waitFor(api, workflow, id, ["paused"], 15_000);
        const resumed = await api("PATCH", `/api/workflows/${workflow}/instances/${id}/status`, { status: "resume" });
        results.push({
          id,
          outcome:
            resumed.status === 200
              ? "resumed"
              : `resume refused (${reached}): ${resumed.status} ${resumed.body?.errors?.[0]?.message ?? ""}`,
        });
      }
    }),
  );
  return results;
}

/**
 * Pauses, then resumes, each running instance of every workflow the Worker has (or of
 * `workflows`, or just `ids` of them).
 * @returns {Promise<{ workflow: string, results: { id: string, outcome: string }[] }[]>}
 */
export async function recoverAll({ baseUrl, token, workflows, ids }) {
  if (!workflows || workflows.length === 0) {
    const res = await client(baseUrl, token)("GET", "/api/workflows");
    if (res.status !== 200)
      throw new Error(`GET /api/workflows: HTTP ${res.status} ${JSON.stringify(res.body?.errors)}`);
    workflows = res.body.result.map((w) => w.name);
  }
  const all = [];
  for (const workflow of workflows) all.push({ workflow, results: await recover({ baseUrl, token, workflow, ids }) });
  return all;
}

function tokenFromDevVars() {
  try {
    return /^API_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(readFileSync(".dev.vars", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const baseUrl = process.env.WORKER_URL ?? "http://localhost:8787";
  const token = process.env.API_TOKEN ?? tokenFromDevVars();
  if (!token) {
    console.error("set API_TOKEN (or put it in .dev.vars)");
    process.exit(2);
  }
  const args = process.argv.slice(2);
  const idsAt = args.indexOf("--ids");
  const ids = idsAt >= 0 ? args[idsAt + 1]?.split(",").filter(Boolean) : undefined;
  const workflows = args.filter((a, i) => !a.startsWith("--") && (idsAt < 0 || i !== idsAt + 1));
  let recovered;
  try {
    recovered = await recoverAll({ baseUrl, token, workflows, ids });
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  let failed = 0;
  for (const { workflow, results } of recovered) {
    const resumed = results.filter((r) => r.outcome === "resumed").length;
    console.log(`${workflow}: ${resumed} resumed, ${results.length - resumed} skipped or refused`);
    for (const r of results.filter((r) => r.outcome !== "resumed")) console.log(`  ${r.id}: ${r.outcome}`);
    failed += results.filter((r) => r.outcome.includes("refused")).length;
  }
  process.exit(failed ? 1 : 0);
}
