// Keeps the Pages app bound to the Worker when the Worker is renamed. `npm create cloudflare`
// (C3) renames a project from a template by changing `name` in the root wrangler.jsonc only,
// then runs the `cf-typegen` script; pages-app/wrangler.jsonc names the Worker too (the
// `service` of each service binding), and a Pages project named after the Worker
// (`<worker>-pages`). This script makes both follow the root name: it runs first in
// `npm run types` (so `cf-typegen`), `dev`, `test` and `deploy`, changes nothing when they
// already agree, and keeps the file's comments and layout (jsonc-parser edits in place).
//
//   node scripts/sync-names.mjs           rewrite pages-app/wrangler.jsonc if needed
//   node scripts/sync-names.mjs --check   fail, naming what differs, instead of rewriting
// Without pages-app/ (removed with `npm run remove -- pages`) there is nothing to do.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applyEdits, modify, parse } from "jsonc-parser";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const check = process.argv.includes("--check");

/**
 * The edits that make the Pages config follow `workerName`, and what each changes: `what`
 * (the setting), `was` and `now`.
 */
export function pagesEdits(pagesText, workerName) {
  const pages = parse(pagesText);
  const changes = [];
  const edits = [];
  const formatting = { formattingOptions: { insertSpaces: true, tabSize: 2 } };
  const old = new Set();
  for (const [i, binding] of (pages.services ?? []).entries()) {
    if (binding.service === workerName) continue;
    old.add(binding.service);
    changes.push({ what: `services[${i}] (${binding.binding})`, was: binding.service, now: workerName });
    edits.push(...modify(pagesText, ["services", i, "service"], workerName, formatting));
  }
  // The Pages project's name follows only while it is derived from the Worker's.
  const derived = [...old].some((name) => pages.name === `${name}-pages`);
  if (derived) {
    changes.push({ what: "name", was: pages.name, now: `${workerName}-pages` });
    edits.push(...modify(pagesText, ["name"], `${workerName}-pages`, formatting));
  }
  return { changes, edits };
}

const pagesConfig = join(root, "pages-app", "wrangler.jsonc");
if (existsSync(pagesConfig)) {
  const workerName = parse(readFileSync(join(root, "wrangler.jsonc"), "utf8")).name;
  if (typeof workerName !== "string" || workerName === "") {
    console.error("sync-names: wrangler.jsonc has no `name`");
    process.exit(1);
  }
  const text = readFileSync(pagesConfig, "utf8");
  const { changes, edits } = pagesEdits(text, workerName);
  if (changes.length && check) {
    console.error(
      `sync-names: pages-app/wrangler.jsonc does not follow the Worker's name (${workerName}):\n${changes.map((c) => `  ${c.what} is ${c.was}, not ${c.now}`).join("\n")}\nRun \`npm run types\` to update it.`,
    );
    process.exit(1);
  }
  if (changes.length) {
    writeFileSync(pagesConfig, applyEdits(text, edits));
    console.log(
      `sync-names: pages-app/wrangler.jsonc follows the Worker's new name: ${changes.map((c) => `${c.what} ${c.was} -> ${c.now}`).join("; ")}`,
    );
  }
}
