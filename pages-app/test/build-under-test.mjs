// The Pages suite runs what deploys: the Functions as `wrangler pages functions build`
// makes them (pages-app/dist/functions) and the Worker beside them as
// `wrangler deploy --dry-run` bundles it (dist/worker). This global setup builds both,
// side by side, before the suite runs and again before a watch-mode rerun, and only when
// a file they are built from changed since the last build (a hash of those files is kept
// next to the output). Runs that do not include the Pages suite build nothing.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { deployBuilds, root, runTool } from "../../scripts/project.mjs";

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
const OUTPUTS = [join(root, "dist/worker/index.js"), join(root, "pages-app/dist/functions/index.js")];
const HASH_FILE = join(root, "pages-app/dist/functions/.built-from");

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

export async function buildUnderTest() {
  const hash = inputsHash();
  const current = OUTPUTS.every(existsSync) && existsSync(HASH_FILE) && readFileSync(HASH_FILE, "utf8") === hash;
  if (current) return;
  await Promise.all(deployBuilds().map((build) => runTool(build, { quiet: true })));
  writeFileSync(HASH_FILE, hash);
}

export default async function setup(project) {
  await buildUnderTest();
  project.onTestsRerun(() => buildUnderTest());
}
