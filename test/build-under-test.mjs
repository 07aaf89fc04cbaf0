// The suites that run what deploys build it first: the Pages suite runs the Functions as
// `wrangler pages functions build` makes them (pages-app/dist/functions) with the Worker beside
// them as `wrangler deploy --dry-run` bundles it (dist/worker); the deploy-bundle suite reads
// that bundle. This global setup builds each bundle whose sources changed since it was last
// built (a hash of them is kept beside it), side by side, before the suite runs and again
// before a watch-mode rerun. A run without those suites (one file of the Worker's) builds
// nothing.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { deployBuilds, root, runTool } from "../scripts/project.mjs";

/** What every bundle is built from besides its own sources: configs and locked dependencies. */
const SHARED = ["package.json", "package-lock.json", "tsconfig.json", "wrangler.jsonc", "src/shared"];
/** Each bundle's own sources, by the directory wrangler builds in. */
const SOURCES = {
  [root]: ["src", "bundle-stubs"],
  [join(root, "pages-app")]: [
    "pages-app/functions",
    "pages-app/src",
    "pages-app/wrangler.jsonc",
    "pages-app/package.json",
    "pages-app/tsconfig.json",
  ],
};

function* files(path) {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) return yield path;
  for (const entry of readdirSync(path).sort()) yield* files(join(path, entry));
}

function sourcesHash(cwd) {
  const hash = createHash("sha256");
  for (const input of [...SHARED, ...SOURCES[cwd]]) {
    for (const file of files(join(root, input))) hash.update(`${relative(root, file)}\0`).update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** Builds, side by side, each deploy bundle whose sources changed since its last build. */
export async function buildChanged() {
  await Promise.all(
    deployBuilds().map(async (build) => {
      const outdir = join(build.cwd, build.args[build.args.indexOf("--outdir") + 1]);
      const stamp = join(outdir, ".built-from");
      const hash = sourcesHash(build.cwd);
      if (existsSync(join(outdir, "index.js")) && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
      await runTool(build, { quiet: true });
      writeFileSync(stamp, hash);
    }),
  );
}

export default async function setup(project) {
  await buildChanged();
  project.onTestsRerun(() => buildChanged());
}
