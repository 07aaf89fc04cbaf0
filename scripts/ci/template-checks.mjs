// The template's own checks: what keeps this starter true to its docs, removable, forkable,
// deployable and sound under load, beyond what a project made from it needs (`npm run check`
// and `npm test`, CI's first job). CI's second job runs them all (`.ci/template-checks`); a
// fork can drop that job and this file. docs/testing.md says what each one does and costs.
//
//   npm run check:template                    all of them, in this order
//   npm run check:template -- load restart    some of them
//   npm run check:template -- --list          their names
//
// Each runs on this Node (under `npm run`, the project's Node 24, as wrangler needs).
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const node = (...args) => [process.execPath, ...args];

/** name, what it checks, and its command (or commands run side by side), in CI's order. */
const CHECKS = [
  [
    "docs",
    "every relative link and anchor in README.md and docs/ resolves; README at most 250 lines",
    [node("scripts/check-docs.mjs")],
  ],
  [
    "ci-config",
    "the GitHub Actions workflows and the Dependabot config parse, with the keys they need",
    [node("scripts/check-ci-config.mjs")],
  ],
  [
    "deps",
    "dependencies point one way: no cycle, the core imports no front or part, parts plug in at src/index.ts",
    [node("scripts/check-deps.mjs")],
  ],
  [
    "bundle",
    "the Worker's deploy bundle within its size budget (bench/bundle-budget.json)",
    [node("bench/check-bundle.mjs")],
  ],
  [
    "quiet",
    "a green `npm test` prints no stack trace and no runtime noise; a real error of ours still shows",
    [node("scripts/ci/suite-report.mjs", "--runs", "1")],
  ],
  [
    "removals",
    "the Worker's optional parts removed together from a copy: lint, checks, typecheck, build, the whole remaining suite",
    [node("scripts/ci/removals.mjs", "together")],
  ],
  [
    "fork",
    "each part removed alone from a copy (lint, checks, build), beside a fork renamed as C3 does with a workflow added as docs/make-it-yours.md says (types, its tests, both builds, a create through the Pages app's RPC path)",
    [node("scripts/ci/removals.mjs", "each"), node("scripts/ci/fork.mjs")],
  ],
  ["load", "1,000 creates at 50 concurrent against wrangler dev; none lost or duplicated", [node("e2e/load.mjs")]],
  [
    "restart",
    "kill npm run dev hard, start it again on the same state: it recovers the sleepers by itself, nothing is lost",
    [node("e2e/restart.mjs")],
  ],
  // part: pages (from here)
  [
    "e2e",
    "the dashboard in headless Chromium against wrangler dev + wrangler pages dev",
    [node("--test", "--test-concurrency=1", "e2e/dashboard.test.mjs")],
  ],
  [
    "pages-fuzz",
    "2,000 random requests per API prefix to the Pages app against wrangler dev + wrangler pages dev (fixed seed)",
    [node("e2e/pages-fuzz.mjs")],
  ],
  // part: pages (to here)
  [
    "rehearsal",
    "npm run deploy against a local stand-in of the Cloudflare API (refused without settings, first deploy, second deploy creating nothing)",
    [node("scripts/deploy-rehearsal/rehearse.mjs")],
  ],
];

const args = process.argv.slice(2);
if (args.includes("--list")) {
  for (const [name, about] of CHECKS) console.log(`${name.padEnd(11)} ${about}`);
  process.exit(0);
}
const unknown = args.filter((name) => !CHECKS.some(([n]) => n === name));
if (unknown.length) {
  console.error(`check:template: no check named ${unknown.join(", ")}; --list names them`);
  process.exit(2);
}
const chosen = args.length ? CHECKS.filter(([name]) => args.includes(name)) : CHECKS;

/** Runs one command with its output shown as it comes; resolves with its exit code. */
const run = ([command, ...commandArgs]) =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise(code ?? 1));
  });

/** Runs commands side by side, each one's output held until it ends, so theirs do not mix. */
const runSideBySide = (commands) =>
  Promise.all(
    commands.map(
      ([command, ...commandArgs]) =>
        new Promise((resolvePromise, reject) => {
          const child = spawn(command, commandArgs, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
          let output = "";
          for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => (output += chunk));
          child.on("error", reject);
          child.on("close", (code) => {
            process.stdout.write(output);
            resolvePromise(code ?? 1);
          });
        }),
    ),
  );

const times = [];
const started = Date.now();
for (const [name, about, commands] of chosen) {
  console.log(`\n==> ${name}: ${about}`);
  const checkStarted = Date.now();
  const codes = commands.length === 1 ? [await run(commands[0])] : await runSideBySide(commands);
  const seconds = (Date.now() - checkStarted) / 1000;
  times.push(`${name} ${seconds.toFixed(0)} s`);
  if (codes.some((code) => code !== 0)) {
    console.error(`check:template: ${name} failed after ${seconds.toFixed(0)} s`);
    process.exit(1);
  }
}
console.log(
  `\ncheck:template: ${times.length} passed in ${((Date.now() - started) / 1000).toFixed(0)} s (${times.join(", ")})`,
);
