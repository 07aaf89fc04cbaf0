// Fails when `npm install` resolved anything other than what the committed package-lock.json pins.
//
// `npm ci` cannot be used here: which optional platform builds (workerd-darwin-64, the rolldown
// bindings, ...) the reachable registry holds changes over time, and npm writes only the ones it
// finds into the lockfile. So an optional entry present on one side only is reported, not fatal;
// every other difference (a version, an integrity hash, a required package added or removed) is.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const committed = JSON.parse(execFileSync("git", ["show", "HEAD:package-lock.json"], { encoding: "utf8" }));
const installed = JSON.parse(readFileSync("package-lock.json", "utf8"));

const before = committed.packages ?? {};
const after = installed.packages ?? {};
const drift = [];
const optionalOnly = [];

for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
  const a = before[path];
  const b = after[path];
  if (a && b) {
    for (const field of ["version", "integrity", "resolved", "link"]) {
      if (a[field] !== b[field]) drift.push(`${path || "(root)"}: ${field} ${a[field]} -> ${b[field]}`);
    }
    if (JSON.stringify(a.dependencies ?? {}) !== JSON.stringify(b.dependencies ?? {})) {
      drift.push(`${path || "(root)"}: dependencies changed`);
    }
  } else if ((a ?? b).optional) {
    optionalOnly.push(`${a ? "-" : "+"} ${path}@${(a ?? b).version}`);
  } else {
    drift.push(`${a ? "removed" : "added"} ${path}@${(a ?? b).version}`);
  }
}

if (optionalOnly.length > 0) {
  console.log(`lockfile: ${optionalOnly.length} optional platform build(s) differ in availability (not an error):`);
  for (const line of optionalOnly) console.log(`  ${line}`);
}
if (drift.length > 0) {
  console.error("package-lock.json no longer matches what npm install resolved; run npm install and commit it:");
  for (const line of drift) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`lockfile: ${Object.keys(after).length} entries, every resolved version as committed`);
