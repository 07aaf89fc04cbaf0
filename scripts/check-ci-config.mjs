// `npm run check:ci-config`: the GitHub Actions workflows and the Dependabot config parse as
// YAML and have the shape GitHub needs (a workflow's `on` and jobs with `runs-on` and `steps`;
// Dependabot's version 2 and its `updates`), so a broken file fails here, not on GitHub.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const problems = [];
const read = (path) => {
  try {
    return parse(readFileSync(join(root, path), "utf8"), { prettyErrors: true });
  } catch (error) {
    problems.push(`${path}: ${error.message}`);
    return undefined;
  }
};

const workflows = readdirSync(join(root, ".github/workflows")).filter((f) => /\.ya?ml$/.test(f));
if (workflows.length === 0) problems.push(".github/workflows: no workflow");
for (const file of workflows) {
  const path = `.github/workflows/${file}`;
  const doc = read(path);
  if (!doc) continue;
  if (!doc.on) problems.push(`${path}: no 'on' (when it runs)`);
  const jobs = Object.entries(doc.jobs ?? {});
  if (jobs.length === 0) problems.push(`${path}: no jobs`);
  for (const [name, job] of jobs) {
    if (!job["runs-on"]) problems.push(`${path}: job ${name} has no runs-on`);
    if (!Array.isArray(job.steps) || job.steps.length === 0) problems.push(`${path}: job ${name} has no steps`);
    for (const [i, step] of (job.steps ?? []).entries()) {
      if (!step.uses && !step.run) problems.push(`${path}: job ${name} step ${i + 1} has neither uses nor run`);
    }
  }
}

const dependabot = read(".github/dependabot.yml");
if (dependabot && (dependabot.version !== 2 || !Array.isArray(dependabot.updates) || dependabot.updates.length === 0)) {
  problems.push(".github/dependabot.yml: needs version: 2 and at least one entry under updates");
}

if (problems.length) {
  console.error(`check:ci-config: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`check:ci-config: ${workflows.length} workflow(s) and the Dependabot config parse and have their keys`);
