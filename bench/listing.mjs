// The listing rows of `npm run bench`: what one page costs as the number of unfinished
// instances grows, and what a conditional read (If-None-Match) costs.
//
// One server of its own (its own state directory), so the instances other rows create do
// not count. Orders are created through the API's batch route (100 per request, so the
// index records them as any caller's would), each waiting for an approval event that
// does not come for days: they stay unfinished. Then, at each size, LIST_SAMPLES listings
// of one 20-row page, spaced LIST_GAP_MS apart start to start (as a dashboard polls, so a
// listing does whatever re-reading its freshness rules ask for at that pace): median and
// worst of their latencies.
//
// Each listing comes right after an untimed `GET /health`, whose own latency is reported
// as the floor: locally all instances live in the one workerd process, and with thousands
// of them its first answer after a pause slows down for every request alike (GET /health
// from about 8 to 20-30 ms here at 10,000), which is the local runtime, not the listing.

const LIST_SAMPLES = Number(process.env.BENCH_LIST_SAMPLES ?? 15);
const LIST_GAP_MS = Number(process.env.BENCH_LIST_GAP_MS ?? 1000);
export const LIST_SIZES = (process.env.BENCH_LIST_SIZES ?? "20,2000,10000").split(",").map(Number);
const PER_PAGE = 20;
const BATCH = 100;
const BATCH_CONCURRENCY = 4;

/** An order above its approval threshold (0), waiting up to a week for the approval. */
const WAITING_ORDER = {
  order_id: "bench-waiting",
  customer_email: "bench@example.com",
  items: [{ sku: "book", quantity: 1, unit_price_cents: 1500 }],
  settlement_seconds: 0,
  approval_threshold_cents: 0,
  approval_timeout_seconds: 7 * 24 * 3600,
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {{ server: any, call: Function, request: Function, idle: (server: any, maxMs: number) => Promise<void>, log: (m: string) => void, workflow: string, auth: Record<string, string> }} ctx
 */
export async function benchListing({ server, call, request, idle, log, workflow, auth }) {
  const path = `/api/workflows/${workflow}/instances`;
  const figures = [];
  let created = 0;
  for (const size of LIST_SIZES) {
    const t0 = performance.now();
    let next = created;
    await Promise.all(
      Array.from({ length: BATCH_CONCURRENCY }, async () => {
        while (next < size) {
          const count = Math.min(BATCH, size - next);
          next += count;
          const body = Array.from({ length: count }, () => ({ params: WAITING_ORDER }));
          const res = await call(server, "POST", `${path}/batch`, body);
          if (res.status !== 201) throw new Error(`batch create: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }),
    );
    created = size;
    // Every new instance runs its first steps (two milestones) and then waits.
    await idle(server, 15 * 60_000);
    log(`listing: ${size} waiting instances created and idle in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const all = await call(server, "GET", `${path}?per_page=1`);
    if (all.body?.result_info?.total_count !== size)
      throw new Error(`listing: the index holds ${all.body?.result_info?.total_count} instances, expected ${size}`);

    const latencies = [];
    const floor = [];
    let etag;
    let bytes = 0;
    for (let i = 0; i < LIST_SAMPLES; i++) {
      const woke = performance.now();
      await request("/health", {});
      floor.push(performance.now() - woke);
      const started = performance.now();
      const res = await request(`${path}?per_page=${PER_PAGE}`, auth);
      latencies.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`listing: ${res.status} ${res.text.slice(0, 200)}`);
      bytes = Buffer.byteLength(res.text);
      etag = res.headers.etag ?? etag;
      await sleep(Math.max(0, LIST_GAP_MS - (performance.now() - woke)));
    }
    // The same page again, conditional on the last answer's ETag (the dashboard's poll).
    const conditional = [];
    let notModified = 0;
    for (let i = 0; i < (etag ? LIST_SAMPLES : 0); i++) {
      await request("/health", {});
      const started = performance.now();
      const res = await request(`${path}?per_page=${PER_PAGE}`, { ...auth, "if-none-match": etag });
      conditional.push(performance.now() - started);
      if (res.status === 304) notModified++;
      else etag = res.headers.etag ?? etag;
      await sleep(Math.max(0, LIST_GAP_MS - (performance.now() - started)));
    }
    figures.push({
      size,
      median: median(latencies),
      max: Math.max(...latencies),
      floor: median(floor),
      bytes,
      conditional: conditional.length ? median(conditional) : NaN,
      notModified,
      samples: LIST_SAMPLES,
    });
    log(
      `listing at ${size}: median ${median(latencies).toFixed(1)} ms, worst ${Math.max(...latencies).toFixed(1)} ms, floor ${median(floor).toFixed(1)} ms` +
        (conditional.length ? `; conditional ${median(conditional).toFixed(1)} ms, ${notModified} x 304` : ""),
    );
  }
  return figures;
}

/** The bench table's rows for the figures above. */
export function listingRows(figures, fmt) {
  const rows = figures.map((f) => [
    `listing: one ${PER_PAGE}-row page with ${f.size.toLocaleString("en")} unfinished instances, ms (median / worst of ${f.samples}, ${LIST_GAP_MS} ms apart)`,
    `${fmt(f.median, 1)} / ${fmt(f.max, 1)}`,
    `${fmt(f.floor, 1)} (GET /health just before)`,
    "",
    "",
  ]);
  const first = figures[0];
  const last = figures.at(-1);
  if (first && last && last !== first) {
    const ratio = last.median / first.median;
    rows.push([
      `listing: the ${last.size.toLocaleString("en")} page vs the ${first.size.toLocaleString("en")} page (median latency)`,
      fmt(last.median, 1),
      fmt(first.median, 1),
      fmt(ratio, 3),
      `<= 1.5 (${ratio <= 1.5 ? "met" : "MISSED"})`,
    ]);
  }
  for (const f of figures) {
    rows.push([
      `listing: conditional read (If-None-Match) of that page at ${f.size.toLocaleString("en")}, ms (median); 304 answers (no body, vs ${f.bytes} bytes)`,
      Number.isFinite(f.conditional) ? `${fmt(f.conditional, 1)}; ${f.notModified}/${f.samples} x 304` : "no ETag",
      fmt(f.median, 1),
      Number.isFinite(f.conditional) ? fmt(f.conditional / f.median, 3) : "",
      "vs the full read above",
    ]);
  }
  return rows;
}
