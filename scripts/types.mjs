// `npm run types` (and `npm run cf-typegen`, which `npm create cloudflare` runs): the Pages app
// follows the Worker's name (./sync-names.mjs), then `wrangler types` writes
// worker-configuration.d.ts for the Worker and pages-app/worker-configuration.d.ts for the
// Pages app. Wrangler prints every interface it generates, and advice to install @types/node
// (the Worker's own code imports no `node:` module; `nodejs_compat` is for the agents SDK:
// docs/local-dev.md); this prints one line per file, and wrangler's output only if it fails.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

function run(label, args, cwd) {
  // process.execPath: the Node that runs this script, the project's own under `npm run`.
  const result = spawnSync(process.execPath, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
    console.error(`types: ${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  process.stdout.write(
    result.stdout
      .split("\n")
      .filter((line) => line.startsWith("sync-names:"))
      .join(""),
  );
}

run("sync-names", [join(root, "scripts", "sync-names.mjs")], root);
run("wrangler types", [wrangler, "types"], root);
console.log("types: worker-configuration.d.ts (the Worker's Env and runtime types)");
if (existsSync(join(root, "pages-app", "wrangler.jsonc"))) {
  const pages = join(root, "pages-app");
  const args = ["-c", "wrangler.jsonc", "-c", "../wrangler.jsonc", "--env-interface", "PagesEnv"];
  run(
    "wrangler types (Pages app)",
    [wrangler, "types", ...args, "--include-runtime", "false", "--strict-vars", "false"],
    pages,
  );
  console.log("types: pages-app/worker-configuration.d.ts (the Pages app's PagesEnv)");
}
