// Keeps the Pages app bound to the Worker when the Worker is renamed. `npm create cloudflare`
// (C3) renames a project from a template by changing `name` in the root wrangler.jsonc only,
// then runs the `cf-typegen` script; pages-app/wrangler.jsonc names the Worker too (the
// `service` of each service binding), and a Pages project named after the Worker
// (`<worker>-pages`); and the Worker's `vars.WORKER_NAME` repeats its own name. This script makes
// them follow the root name: it runs first in
// `npm run types` (so `cf-typegen`), `dev`, `test` and `deploy`, changes nothing when they
// already agree, and keeps the file's comments and layout (jsonc-parser edits in place).
//
//   node scripts/sync-names.mjs           rewrite pages-app/wrangler.jsonc if needed
//   node scripts/sync-names.mjs --check   fail, naming what differs, instead of rewriting
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

/** The edit that makes the Worker's `vars.WORKER_NAME` (its REST `script_name`) equal its `name`. */
export function workerEdits(workerText) {
  const config = parse(workerText);
  const current = config.vars?.WORKER_NAME;
  if (current === undefined || current === config.name) return { changes: [], edits: [] };
  const formatting = { formattingOptions: { insertSpaces: true, tabSize: 2 } };
  return {
    changes: [{ what: "vars.WORKER_NAME", was: current, now: config.name }],
    edits: modify(workerText, ["vars", "WORKER_NAME"], config.name, formatting),
  };
}

const workerConfig = join(root, "wrangler.jsonc");
const workerText = readFileSync(workerConfig, "utf8");
const workerName = parse(workerText).name;
if (typeof workerName !== "string" || workerName === "") {
  console.error("sync-names: wrangler.jsonc has no `name`");
  process.exit(1);
}
const pagesConfig = join(root, "pages-app", "wrangler.jsonc");
const files = [{ path: workerConfig, label: "wrangler.jsonc", text: workerText, ...workerEdits(workerText) }];
// Without pages-app/ (removed with `npm run remove -- pages`) only the Worker's own setting is kept.
if (existsSync(pagesConfig)) {
  const text = readFileSync(pagesConfig, "utf8");
  files.push({ path: pagesConfig, label: "pages-app/wrangler.jsonc", text, ...pagesEdits(text, workerName) });
}
const stale = files.filter((f) => f.changes.length);
if (stale.length && check) {
  console.error(
    `sync-names: the configuration does not follow the Worker's name (${workerName}):\n${stale
      .flatMap((f) => f.changes.map((c) => `  ${f.label}: ${c.what} is ${c.was}, not ${c.now}`))
      .join("\n")}\nRun \`npm run types\` to update it.`,
  );
  process.exit(1);
}
for (const f of stale) {
  writeFileSync(f.path, applyEdits(f.text, f.edits));
  console.log(
    `sync-names: ${f.label} follows the Worker's new name: ${f.changes.map((c) => `${c.what} ${c.was} -> ${c.now}`).join("; ")}`,
  );
}
