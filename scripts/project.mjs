// The routine tasks of both projects, the Worker's and then the Pages app's (pages-app/, when
// it is there: `npm run remove -- pages` deletes it), behind `npm run typecheck`, `build` and
// `check` (`npm run types` is ./types.mjs):
//
//   node scripts/project.mjs typecheck   tsc: the Worker and its tests; the Pages app, its tests
//                                        and its dashboard's JSDoc
//   node scripts/project.mjs build       both deploy bundles, offline, side by side:
//                                        `wrangler deploy --dry-run` into dist/worker,
//                                        `wrangler pages functions build` into pages-app/dist/functions
//   node scripts/project.mjs check       the generated types current (the Pages app's bindings
//                                        follow the Worker's name, and `wrangler types --check`
//                                        for both), typecheck, build: what CI's first job runs
//                                        after lint, and what a fork keeps
//
// Tools run on this process's Node (under `npm run`, the project's Node 24).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pagesApp = join(root, "pages-app");
const withPages = () => existsSync(join(pagesApp, "wrangler.jsonc"));
const require = createRequire(import.meta.url);
const binOf = (pkg, bin) => join(dirname(require.resolve(`${pkg}/package.json`)), bin);
const wrangler = (args, cwd = root) => ({ cwd, args: [binOf("wrangler", "bin/wrangler.js"), ...args] });
const tsc = (args) => ({ cwd: root, args: [binOf("typescript", "bin/tsc"), ...args] });

/** The two deploy builds (the Pages app's only while it is there), as wrangler makes them. */
export const deployBuilds = () => [
  wrangler(["deploy", "--dry-run", "--outdir", "dist/worker"]),
  ...(withPages() ? [wrangler(["pages", "functions", "build", "--outdir", "dist/functions"], pagesApp)] : []),
];

/** The Pages app's types, checked: its bindings, with the Worker's config for what the two share (./types.mjs). */
const pagesTypesCheck = wrangler(
  [
    "types",
    ...["-c", "wrangler.jsonc", "-c", "../wrangler.jsonc"],
    ...["--env-interface", "PagesEnv", "--include-runtime", "false", "--strict-vars", "false", "--check"],
  ],
  pagesApp,
);

/**
 * Runs one tool (`{ cwd, args }`, a script run with this Node). Its output is shown as it
 * comes, or, with `quiet`, kept and shown only if it fails. Rejects when it fails.
 */
export function runTool({ cwd, args }, { quiet = false } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit" });
    let output = "";
    if (quiet) for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolvePromise();
      reject(new Error(`${args.slice(1).join(" ")} (in ${cwd}) failed${quiet ? `:\n${output}` : ""}`));
    });
  });
}

const syncNamesCheck = { cwd: root, args: [join(root, "scripts/sync-names.mjs"), "--check"] };

const TASKS = {
  async typecheck() {
    await runTool(tsc(["--noEmit"]));
    if (withPages()) {
      await runTool(tsc(["--noEmit", "-p", "pages-app"]));
      await runTool(tsc(["--noEmit", "-p", "pages-app/tsconfig.dashboard.json"]));
    }
  },
  async build() {
    await Promise.all(deployBuilds().map((build) => runTool(build)));
  },
  async check() {
    await runTool(syncNamesCheck);
    await runTool(wrangler(["types", "--check"]));
    if (withPages()) await runTool(pagesTypesCheck);
    await TASKS.typecheck();
    await TASKS.build();
  },
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const task = process.argv[2];
  if (!task || !(task in TASKS) || process.argv.length > 3) {
    console.error(`usage: node scripts/project.mjs ${Object.keys(TASKS).join(" | ")}`);
    process.exit(2);
  }
  try {
    await TASKS[task]();
  } catch (error) {
    console.error(`${task}: ${error.message}`);
    process.exit(1);
  }
}
