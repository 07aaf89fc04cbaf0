// `npm test` as a newcomer sees it, measured: runs it (3 times by default), each from no
// built bundles (the Pages suite builds both, so every figure includes the builds), and
// fails if a run fails or prints what a green run must not: a stack trace of an uncaught
// exception or an unhandled rejection. Then checks that the output filter the suite
// installs (test/runtime-noise.ts) still lets a real error of ours through: a one-off
// test rejects a waitUntil in a Durable Object of ours, next to the runtime's own noise,
// and the first must show, the second must not.
//
//   node scripts/ci/suite-report.mjs [--runs N]   measure and check (CI: `npm run check:template -- quiet`)
//   node scripts/ci/suite-report.mjs --write      ...and write the figures into docs/testing.md
//
// Run it under `npm run`/`npx` (the project's Node 24), on a machine doing nothing else.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const write = args.includes("--write");

/** What a green run must not print. */
const NOISE = /uncaught exception|unhandled|uncaught/i;

/** npm, as the one running this script (under `npm run`), else the one on the PATH. */
const npm = (...npmArgs) =>
  process.env.npm_execpath ? [process.execPath, process.env.npm_execpath, ...npmArgs] : ["npm", ...npmArgs];

function capture([command, ...commandArgs]) {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolvePromise({ code, output: stripVTControlCharacters(output), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

const fail = (message, output) => {
  if (output) console.error(output);
  console.error(`suite-report: ${message}`);
  process.exit(1);
};

const results = [];
for (let i = 1; i <= runs; i++) {
  for (const built of ["dist", "pages-app/dist"]) rmSync(join(root, built), { recursive: true, force: true });
  const run = await capture(npm("test"));
  const files = /Test Files\s+(\d+) passed/.exec(run.output)?.[1];
  const tests = /Tests\s+(\d+) passed/.exec(run.output)?.[1];
  if (run.code !== 0 || !files || !tests) fail(`run ${i}: npm test failed (exit ${run.code})`, run.output);
  const noise = run.output.split("\n").filter((line) => NOISE.test(line));
  if (noise.length) fail(`run ${i}: ${noise.length} line(s) a green run must not print:\n  ${noise.join("\n  ")}`);
  console.log(`suite-report: run ${i}: ${run.seconds.toFixed(1)} s, ${files} files, ${tests} tests passed, quiet`);
  results.push({ ...run, files: Number(files), tests: Number(tests) });
}

// The filter lets an error of ours through: a rejected waitUntil in the instance index.
const probe = join(root, `test/zz-filter-probe-${process.pid}.test.ts`);
const marker = `an error of ours ${process.pid}`;
writeFileSync(
  probe,
  `import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";

it("makes runtime noise and an error of ours", async () => {
  await expect(env.MY_WORKFLOW.get("never-created-${process.pid}")).rejects.toThrow();
  const index = env.INSTANCE_INDEX.get(env.INSTANCE_INDEX.idFromName("filter-probe"));
  await runInDurableObject(index, (_index, state) => state.waitUntil(Promise.reject(new Error("${marker}"))));
  await new Promise((r) => setTimeout(r, 500));
});
`,
);
let probed;
try {
  probed = await capture(npm("exec", "--", "vitest", "run", "--project", "worker", probe));
} finally {
  rmSync(probe, { force: true });
}
if (probed.code !== 0) fail("the filter probe failed to run", probed.output);
if (!probed.output.includes(marker))
  fail("the output filter hid an error of ours (a rejected waitUntil)", probed.output);
if (/Engine was never started|instance\.not_found/.test(probed.output))
  fail("the output filter let the runtime's own noise through", probed.output);
console.log("suite-report: the output filter hides the runtime's noise and shows an error of ours");

const seconds = results.map((r) => r.seconds).sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)];
const last = results.at(-1);
const date = new Date().toISOString().slice(0, 10);
const summary = `Measured ${date} by \`scripts/ci/suite-report.mjs\` on a ${availableParallelism()}-core machine: ${last.files} files, ${last.tests} tests, all passed, nothing printed a green run must not; \`npm test\` took ${results.map((r) => `${r.seconds.toFixed(1)} s`).join(", ")} (median ${median.toFixed(1)} s), each from no built bundles.`;
console.log(`suite-report: ${summary}`);

if (write) {
  const path = join(root, "docs/testing.md");
  const doc = readFileSync(path, "utf8");
  const block = /(<!-- suite-report -->\n)[\s\S]*?(\n<!-- \/suite-report -->)/;
  if (!block.test(doc)) fail("docs/testing.md has no <!-- suite-report --> ... <!-- /suite-report --> block");
  writeFileSync(path, doc.replace(block, `$1${summary}$2`));
  console.log("suite-report: written to docs/testing.md");
}
