// The Pages suite runs what deploys: the Functions as `wrangler pages functions build`
// makes them (pages-app/dist/functions) and the Worker beside them as
// `wrangler deploy --dry-run` bundles it (dist/worker). This global setup builds both,
// side by side, before the suite runs and again before a watch-mode rerun, and only when
// a file they are built from changed since the last build (a hash of those files is kept
// next to the output). Runs that do not include the Pages suite build nothing.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pagesApp = join(root, "pages-app");
const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");

/** What the two bundles are built from: sources, stubs, configs, locked dependencies. */
const INPUTS = [
  "src",
  "bundle-stubs",
  "wrangler.jsonc",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "pages-app/functions",
  "pages-app/src",
  "pages-app/wrangler.jsonc",
  "pages-app/package.json",
  "pages-app/tsconfig.json",
];

const BUILDS = [
  { output: join(root, "dist/worker/index.js"), cwd: root, args: ["deploy", "--dry-run", "--outdir", "dist/worker"] },
  {
    output: join(pagesApp, "dist/functions/index.js"),
    cwd: pagesApp,
    args: ["pages", "functions", "build", "--outdir", "dist/functions"],
  },
];
const HASH_FILE = join(pagesApp, "dist/functions/.built-from");

function* files(path) {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) return yield path;
  for (const entry of readdirSync(path).sort()) yield* files(join(path, entry));
}

function inputsHash() {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    for (const file of files(join(root, input))) hash.update(`${relative(root, file)}\0`).update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** Runs wrangler quietly; on failure, throws with what it printed. */
function run({ cwd, args }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wrangler, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(" ")} (in ${cwd}) failed:\n${output}`)),
    );
  });
}

export async function buildUnderTest() {
  const hash = inputsHash();
  const current =
    BUILDS.every((b) => existsSync(b.output)) && existsSync(HASH_FILE) && readFileSync(HASH_FILE, "utf8") === hash;
  if (current) return;
  await Promise.all(BUILDS.map(run));
  writeFileSync(HASH_FILE, hash);
}

export default async function setup(project) {
  await buildUnderTest();
  project.onTestsRerun(() => buildUnderTest());
}
