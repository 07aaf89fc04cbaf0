// `npm run check:ci-config`: the GitHub Actions workflows and the Dependabot config parse as
// YAML and have the shape GitHub needs (a workflow's `on` and jobs with `runs-on` and `steps`;
// Dependabot's version 2 and its `updates`), so a broken file fails here, not on GitHub. Also what
// the project relies on: CI runs `.ci/run` on push and pull request, and the deploy workflow runs
// `npm run deploy` through the official wrangler action, with the Cloudflare secrets, after a job
// that runs `.ci/run`.
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

const runsCi = (job) => (job?.steps ?? []).some((step) => /\bbash \.ci\/run\b/.test(step.run ?? ""));
const ci = read(".github/workflows/ci.yml");
if (ci) {
  if (!ci.on?.push || !("pull_request" in (ci.on ?? {}))) problems.push("ci.yml: must run on push and pull_request");
  if (!Object.values(ci.jobs ?? {}).some(runsCi)) problems.push("ci.yml: no job runs `bash .ci/run`");
}
/** Whether a value is GitHub's expression for the repository secret `name`. */
const isSecret = (value, name) => new RegExp(`^\\$\\{\\{\\s*secrets\\.${name}\\s*\\}\\}$`).test(value ?? "");
const deploy = read(".github/workflows/deploy.yml");
if (deploy) {
  const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts ?? {};
  if (!scripts.deploy) problems.push("package.json: no deploy script for deploy.yml to run");
  if (!("workflow_dispatch" in (deploy.on ?? {})))
    problems.push("deploy.yml: cannot be run by hand (workflow_dispatch)");
  const jobs = deploy.jobs ?? {};
  const isWranglerAction = (step) => /^cloudflare\/wrangler-action@v([3-9]|\d\d)/.test(step.uses ?? "");
  const deploying = Object.entries(jobs).filter(([, job]) => (job.steps ?? []).some(isWranglerAction));
  if (deploying.length !== 1)
    problems.push("deploy.yml: exactly one job must use cloudflare/wrangler-action@v3 or later");
  for (const [name, job] of deploying) {
    const w = job.steps.find(isWranglerAction).with ?? {};
    if (!isSecret(w.apiToken, "CLOUDFLARE_API_TOKEN"))
      problems.push(`deploy.yml: ${name}: apiToken must be the CLOUDFLARE_API_TOKEN secret`);
    if (!isSecret(w.accountId, "CLOUDFLARE_ACCOUNT_ID"))
      problems.push(`deploy.yml: ${name}: accountId must be the CLOUDFLARE_ACCOUNT_ID secret`);
    const commands = String(w.preCommands ?? "")
      .split("\n")
      .map((c) => c.trim())
      .filter(Boolean);
    if (!commands.includes("npm run deploy"))
      problems.push(`deploy.yml: ${name}: preCommands must run \`npm run deploy\``);
    // The job holds the Cloudflare secrets: it installs exactly the committed lockfile.
    const installs = (job.steps ?? [])
      .map((s) => String(s.run ?? ""))
      .filter((run) => /\bnpm (ci|install|i)\b/.test(run));
    if (installs.length === 0 || installs.some((run) => !/\bnpm ci\b/.test(run)))
      problems.push(`deploy.yml: ${name} must install with \`npm ci\` (the committed lockfile), not \`npm install\``);
    const needs = [job.needs ?? []].flat();
    if (!needs.some((n) => runsCi(jobs[n])))
      problems.push(`deploy.yml: ${name} must need a job that runs \`bash .ci/run\``);
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
