// Serves one built Worker bundle with Miniflare (workerd directly, no dev proxy) on a free
// loopback port, with the bindings of wrangler.jsonc and its own state directory.
//
//   node bench/serve.mjs <bundle dir> <state dir> <api token>
//
// Prints one JSON line `{"url": ...}` when ready. Stops (and stops workerd) on SIGTERM,
// SIGINT, or when its stdin pipe closes, so it never outlives the bench that started it.
import { fstatSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { moduleFiles } from "./bundle.mjs";

// The Miniflare (and so the workerd) that this project's wrangler runs for `wrangler dev`,
// not whichever copy the package manager hoisted (the test plugin brings an older one).
const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
const { Log, LogLevel, Miniflare, convertV4MiniflareOptions } = await import(
  pathToFileURL(fromWrangler.resolve("miniflare")).href
);

const [bundleDir, stateDir, token] = process.argv.slice(2);
if (!bundleDir || !stateDir || !token) {
  console.error("usage: node bench/serve.mjs <bundle dir> <state dir> <api token>");
  process.exit(2);
}

// Bindings, compatibility settings and vars exactly as wrangler.jsonc declares them.
const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.jsonc");
const { modulesRules: _rules, ...options } = workerOptions;

// The built modules: the entry first, then any module it imports (chunks, wasm).
const root = resolve(bundleDir);
const typeOf = (path) =>
  path.endsWith(".wasm")
    ? "CompiledWasm"
    : path.endsWith(".bin")
      ? "Data"
      : /\.(txt|html|sql)$/.test(path)
        ? "Text"
        : "ESModule";
const modules = moduleFiles(root).map((path) => ({ type: typeOf(path), path }));

const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    log: new Log(LogLevel.ERROR),
    resourcePersistencePath: resolve(stateDir),
    // Set to profile the Worker under load (Chrome DevTools / CDP Profiler).
    ...(process.env.BENCH_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) } : {}),
    ...options,
    name: "workflows-starter",
    modulesRoot: root,
    modules,
    // Workflows a bench entry adds (BENCH_WORKFLOWS, JSON: { BINDING: { name, className } }).
    workflows: { ...options.workflows, ...JSON.parse(process.env.BENCH_WORKFLOWS ?? "{}") },
    // The create rate limit would turn a load test into a 429 test.
    bindings: { ...options.bindings, API_TOKEN: token, CREATE_RATE_LIMIT: "off" },
  }),
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Started by the bench with a pipe as stdin: its end means the bench is gone.
if (fstatSync(0).isFIFO()) {
  process.stdin.on("end", stop);
  process.stdin.resume();
}

const url = await mf.ready;
console.log(JSON.stringify({ url: url.href }));
