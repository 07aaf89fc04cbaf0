// Random requests against the Pages app as `npm run dev` runs it: `wrangler dev` (the
// Worker) and `wrangler pages dev` (the Pages app) as two processes, each on a free port
// with its own state and dev registry (e2e/lib/stack.mjs), the Worker's create limit off
// (the run creates faster than it allows). COUNT requests per prefix (/rpc, /http), from a
// fixed seed, dealt round-robin to LANES sequences that run side by side (each in order,
// over kept-alive connections); in every sequence, after every tenth request and every
// large body, a valid create must still answer 201. Every answer under the
// prefixes must be the v4 envelope (405 with Allow), with no 5xx but a relayed Worker's
// own, no dropped connection and no hang.
//
//   npm run test:pages-fuzz                          2,000 per prefix, seed 20261201
//   SEED=123 COUNT=500 npm run test:pages-fuzz       another seed, fewer requests
//   LANES=1 npm run test:pages-fuzz                  one sequence (default 4)
//   npm run test:pages-fuzz -- --url http://127.0.0.1:8788   against a running `npm run dev`
//
// On failure it prints the seed, the request's index and the request, and exits 1.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { randomRequest, validCreate } from "../pages-app/test/random-requests.ts";
import { startStack } from "./lib/stack.mjs";

const seed = Number(process.env.SEED ?? 20261201);
const count = Number(process.env.COUNT ?? 2000);
const lanes = Math.max(1, Number(process.env.LANES ?? 4));
const urlArg = process.argv.indexOf("--url");
const attachTo = urlArg > 0 ? process.argv[urlArg + 1] : undefined;
const TIMEOUT_MS = 30_000;

const stack = attachTo ? undefined : await startStack({ workerVars: { CREATE_RATE_LIMIT: "off" } });
const base = attachTo ?? stack.pages.baseUrl;
// The local key that opens the app: this stack's, or the running `npm run dev`'s.
const keyHeader = stack?.pages.keyHeader ?? {
  "x-local-dev-key":
    process.env.LOCAL_DEV_KEY ?? readFileSync(new URL("../.wrangler/local-dev-key", import.meta.url), "utf8").trim(),
};
const origin = new URL(base).origin;
const run = `${seed}-${Date.now().toString(36)}`;
let counter = 0;
const freshId = () => `pf-${run}-${(counter++).toString(36)}`;

const under = (prefix, url) => {
  const { pathname } = new URL(url);
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
};

/** What is wrong with the answer to `request`, or nothing. */
function problemsOf(request, url, res, text) {
  if (!under(request.prefix, url)) return [];
  const problems = [];
  if (res.status >= 500 && res.headers.get("x-request-id") === null) problems.push(`${res.status} not from the Worker`);
  if (res.status === 405 && !res.headers.get("allow")) problems.push("405 without Allow");
  if (!res.headers.get("content-type")?.startsWith("application/json")) {
    problems.push(`content-type ${res.headers.get("content-type")}`);
  }
  if (request.method === "HEAD") return problems;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, "not JSON"];
  }
  const failed = res.status >= 400;
  const envelope =
    body !== null &&
    typeof body === "object" &&
    body.success === !failed &&
    Array.isArray(body.errors) &&
    Array.isArray(body.messages) &&
    "result" in body &&
    (failed ? body.errors.length > 0 && body.result === null : body.errors.length === 0);
  if (!envelope) problems.push("not the v4 envelope");
  return problems;
}

async function send(request) {
  const url = new URL(request.path, base).href;
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: request.method,
      headers: { ...request.headers, ...keyHeader },
      body: request.body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    return { url, res, text, ms: performance.now() - started };
  } catch (error) {
    const cause = error.cause?.code ?? error.cause?.message ?? "";
    return { url, error: `${error.name}: ${error.message} ${cause}`.trim(), ms: performance.now() - started };
  }
}

const describeRequest = (r) =>
  `${r.method} ${r.path} headers=${JSON.stringify(r.headers)} body=${r.body === undefined ? "none" : `${r.body.length} bytes: ${JSON.stringify(r.body.slice(0, 80))}`}`;

const failures = [];
const outside = [];
const statuses = {};
const started = performance.now();
let creates = 0;
/** One sequence: its requests in order, a valid create after every tenth and every large body. */
async function runLane(prefix, requests) {
  for (const [index, generated] of requests) {
    if (failures.length >= 20) return;
    const request = { ...generated, prefix };
    const answer = await send(request);
    const problems = answer.error ? [answer.error] : problemsOf(request, answer.url, answer.res, answer.text);
    if (answer.res) statuses[answer.res.status] = (statuses[answer.res.status] ?? 0) + 1;
    // A path such as `/rpc/../x` leaves the prefix once parsed: not the API's answer, but noted.
    if (answer.res?.status >= 500 && !under(prefix, answer.url)) {
      outside.push(
        `${request.method} ${new URL(answer.url).pathname} -> ${answer.res.status} ${answer.text.slice(0, 100)}`,
      );
    }
    if (problems.length > 0) {
      failures.push(
        `seed ${seed}, ${prefix} #${index}: ${describeRequest(request)}\n  -> ${answer.res?.status ?? "no answer"} ${problems.join("; ")} ${(answer.text ?? "").slice(0, 160)}`,
      );
    }
    if (index % 10 === 9 || (request.body?.length ?? 0) >= 1024 * 1024) {
      const create = { ...validCreate(prefix, freshId(), origin), prefix };
      const after = await send(create);
      creates++;
      if (after.res?.status !== 201) {
        failures.push(
          `seed ${seed}, ${prefix} #${index}: a valid create after ${describeRequest(request)}\n  -> ${after.res?.status ?? after.error} ${(after.text ?? "").slice(0, 160)}`,
        );
      }
    }
  }
}

try {
  for (const prefix of ["/rpc", "/http"]) {
    const requests = fc.sample(
      randomRequest(
        prefix,
        origin,
        fc.constant(null).map(() => freshId()),
      ),
      { seed, numRuns: count },
    );
    // Request i goes to lane i % lanes, so a seed always gives every lane the same sequence.
    const byLane = Array.from({ length: lanes }, (_, lane) =>
      [...requests.entries()].filter(([index]) => index % lanes === lane),
    );
    await Promise.all(byLane.map((sequence) => runLane(prefix, sequence)));
  }
} finally {
  await stack?.stop();
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `pages fuzz: ${count} requests per prefix in ${lanes} sequences and ${creates} valid creates in ${seconds} s, seed ${seed}; statuses ${JSON.stringify(statuses)}`,
);
if (outside.length > 0) {
  console.log(`5xx outside the prefixes (static files, not checked):\n  ${[...new Set(outside)].join("\n  ")}`);
}
if (failures.length > 0) {
  console.error(`\n${failures.length} failure(s) (seed ${seed}; rerun with SEED=${seed}):\n\n${failures.join("\n\n")}`);
  process.exit(1);
}
console.log("ok: every answer under /rpc and /http is the v4 envelope; no 5xx (but relayed), drop or hang");
