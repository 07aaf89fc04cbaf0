// The history rows of `npm run bench`: what reading a run's history costs as it grows, and how
// soon a subscriber hears of a step.
//
// One server of its own (bench/history-worker.ts: the Worker plus BenchStepsWorkflow, a run of N
// trivial steps). 1. Reading an instance (`GET .../instances/:id`, steps and all) of a 1,000-step
// run against a 10-step one, reads alternated, HISTORY_READS each: median and the ratio of the
// medians. 2. A run of HISTORY_LIVE_STEPS steps, HISTORY_GAP_MS apart, followed from its start
// through `GET .../subscribe` over HTTP: for each step completed after the stream opened, the
// time from the platform's event timestamp to its arrival at the subscriber (same machine, same
// clock): median and p95.
import { quantile } from "./load.mjs";

const READS = Number(process.env.BENCH_HISTORY_READS ?? 9);
const LONG = Number(process.env.BENCH_HISTORY_STEPS ?? 1000);
const SHORT = 10;
const LIVE_STEPS = Number(process.env.BENCH_HISTORY_LIVE_STEPS ?? 40);
const GAP_MS = Number(process.env.BENCH_HISTORY_GAP_MS ?? 100);
const WORKFLOW = "/api/workflows/bench-steps/instances";

/** Its binding, for bench/serve.mjs (BENCH_WORKFLOWS). */
export const HISTORY_WORKFLOWS = { BENCH_STEPS: { name: "bench-steps", className: "BenchStepsWorkflow" } };

const median = (values) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/**
 * @param {{ server: { url: string }, call: Function, log: (m: string) => void, auth: Record<string, string> }} ctx
 */
export async function benchHistory({ server, call, log, auth }) {
  const run = Date.now().toString(36);
  const create = async (id, params) => {
    const res = await call(server, "POST", WORKFLOW, { instance_id: id, params });
    if (res.status !== 201) throw new Error(`history: create ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const completed = async (id, timeoutMs) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
      const res = await call(server, "GET", `${WORKFLOW}/${id}?simple=true`);
      if (res.body?.result?.status === "complete") return res.body.result;
      if (res.body?.result?.status === "errored") throw new Error(`history: ${id} errored`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`history: ${id} did not complete in ${timeoutMs / 1000} s`);
  };

  const long = `long-${run}`;
  const short = `short-${run}`;
  const t0 = performance.now();
  await create(long, { steps: LONG });
  await create(short, { steps: SHORT });
  const [longRun] = await Promise.all([completed(long, 10 * 60_000), completed(short, 60_000)]);
  log(
    `history: a ${LONG}-step run (${longRun.step_count} steps) ran in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );

  const times = { [long]: [], [short]: [] };
  const bytes = {};
  for (let i = 0; i < READS; i++) {
    for (const id of i % 2 ? [short, long] : [long, short]) {
      const started = performance.now();
      const res = await call(server, "GET", `${WORKFLOW}/${id}`);
      times[id].push(performance.now() - started);
      if (res.status !== 200) throw new Error(`history: read ${id}: ${res.status}`);
      bytes[id] = JSON.stringify(res.body).length;
    }
  }
  const read = {
    long: median(times[long]),
    short: median(times[short]),
    longBytes: bytes[long],
    shortBytes: bytes[short],
  };
  log(`history: read ${LONG} steps ${read.long.toFixed(1)} ms, ${SHORT} steps ${read.short.toFixed(1)} ms (medians)`);

  // A live run, followed from its start.
  const live = `live-${run}`;
  await create(live, { steps: LIVE_STEPS, gap_ms: GAP_MS });
  const opened = Date.now();
  const res = await fetch(
    new URL(`${WORKFLOW}/${live}/subscribe?filter=step_completed,workflow_completed`, server.url),
    {
      headers: auth,
    },
  );
  if (res.status !== 200) throw new Error(`history: subscribe: ${res.status}`);
  const delays = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body) {
    const arrived = Date.now();
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      const type = /^event: (.*)$/m.exec(block)?.[1];
      if (!data || type !== "step_completed") continue;
      const event = JSON.parse(data);
      // Steps completed before the stream opened come as history: not a delay.
      if (event.timestamp >= opened) delays.push(arrived - event.timestamp);
    }
  }
  delays.sort((a, b) => a - b);
  const delay = { median: quantile(delays, 0.5), p95: quantile(delays, 0.95), count: delays.length };
  log(
    `history: ${delays.length} live steps reached the subscriber in ${delay.median} ms (median), ${delay.p95} ms (p95)`,
  );
  return { read, delay };
}

/** The bench table's rows for the figures above. */
export function historyRows({ read, delay }, fmt) {
  return [
    [
      `history: GET an instance with a ${LONG.toLocaleString("en")}-step history (steps and all) vs a ${SHORT}-step one, ms (median of ${READS}); bytes`,
      `${fmt(read.long, 1)}; ${read.longBytes}`,
      `${fmt(read.short, 1)}; ${read.shortBytes}`,
      fmt(read.long / read.short, 1),
      `grows with the history read (${fmt(read.longBytes / read.shortBytes, 0)}x the bytes), bounded by 50,000 events`,
    ],
    [
      `history: a step completing -> its event at a subscriber (SSE over HTTP), ms, median / p95 of ${delay.count}`,
      `${fmt(delay.median)} / ${fmt(delay.p95)}`,
      "",
      "",
      "",
    ],
  ];
}
