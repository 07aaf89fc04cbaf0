// `npm run deploy`: deploys the Worker (wrangler.jsonc) and the Pages app (pages-app/), the
// first time and every time after, with wrangler's own commands. docs/deploy.md explains it.
//
//   1. Looks up what exists: the queues wrangler.jsonc names, the Worker's secrets, the Pages
//      project and its secrets.
//   2. Gathers the settings that are not set yet (API_TOKEN, ACCESS_TEAM_DOMAIN, ACCESS_AUD):
//      asks for them in a terminal, else reads environment variables of the same names, else
//      stops (before changing anything) with the commands that set them.
//   3. Creates what is missing: the queues, the Pages project.
//   4. Deploys the Worker (`wrangler deploy`; a first deploy brings its secrets along).
//   5. Sets the Pages app's secrets: the missing ones, and WORKER_URL, the deployed Worker's URL.
//   6. Deploys the Pages app (`wrangler pages deploy`) to its production branch.
//   7. Prints where everything is.
// A second run finds everything in place: it creates nothing and asks for nothing. Without
// pages-app/ (`npm run remove -- pages`), it deploys the Worker alone: steps 5 and 6 are skipped.
//
// Environment: the settings above; WORKER_URL to give the Pages app another URL of the Worker
// than its workers.dev one (a custom domain); PAGES_PRODUCTION_BRANCH (default `main`), the
// branch a new Pages project treats as production and every deploy targets.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pagesDir = join(root, "pages-app");
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);
const productionBranch = process.env.PAGES_PRODUCTION_BRANCH || "main";
const interactive = Boolean(process.stdin.isTTY);

const worker = unstable_readConfig({ config: join(root, "wrangler.jsonc") });
const pages = existsSync(join(pagesDir, "wrangler.jsonc"))
  ? unstable_readConfig({ config: join(pagesDir, "wrangler.jsonc") })
  : undefined;

const isHttpsOrigin = (url) => /^https:\/\/[^\s/]+\/?$/.test(url);

/** The token .dev.vars.example holds: public, so the Worker accepts it on this machine only. */
const exampleToken = (() => {
  try {
    return readFileSync(join(root, ".dev.vars.example"), "utf8").match(/^\s*API_TOKEN\s*=\s*"?([^"\r\n]*)"?\s*$/m)?.[1];
  } catch {
    return undefined;
  }
})();
/** RFC 6750's `b64token`: the only characters an `Authorization: Bearer` token can carry. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const API_TOKEN_MIN_LENGTH = 32;

/** The settings this script can be given, and how to tell the user what each one is. */
const SETTINGS = {
  API_TOKEN: {
    about:
      "the Worker's API token: a random value of 32 characters or more (e.g. `openssl rand -hex 32`); the Pages app sends the same one",
    hidden: true,
    check: (v) =>
      v === exampleToken
        ? "is the public example token of .dev.vars.example: make a real one, e.g. `openssl rand -hex 32`"
        : v.length < API_TOKEN_MIN_LENGTH
          ? `must be at least ${API_TOKEN_MIN_LENGTH} characters (it has ${v.length}), e.g. \`openssl rand -hex 32\``
          : BEARER_TOKEN.test(v)
            ? undefined
            : "may hold only letters, digits and - . _ ~ + / (then = at the end): no bearer token can carry other characters",
  },
  ACCESS_TEAM_DOMAIN: {
    about: "your Cloudflare Access team domain, e.g. https://myteam.cloudflareaccess.com",
    // The form the Pages app accepts (pages-app/src/access.ts): it refuses every request otherwise.
    check: (v) =>
      /^https:\/\/[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.cloudflareaccess\.com\/?$/i.test(v)
        ? undefined
        : "must be https://<team>.cloudflareaccess.com",
  },
  ACCESS_AUD: { about: "the Application Audience (AUD) tag of the Access application that protects the Pages app" },
};
const workerSecretNames = worker.secrets?.required ?? [];
// The Pages app's settings are all secrets: the ones above, and WORKER_URL, which the Worker's
// deploy tells. Any other secret pages-app/wrangler.jsonc requires is asked for too.
const pagesSecretNames = pages
  ? [...new Set([...Object.keys(SETTINGS), "WORKER_URL", ...(pages.secrets?.required ?? [])])]
  : [];
const queueNames = [
  ...new Set([
    ...worker.queues.producers.map((p) => p.queue),
    ...worker.queues.consumers.flatMap((c) => [c.queue, c.dead_letter_queue].filter(Boolean)),
  ]),
];

const scratch = mkdtempSync(join(tmpdir(), "deploy-"));
const pagesDeployConfigDir = join(pagesDir, ".wrangler", "deploy");
let wrotePagesDeployConfig = false;
function cleanUp() {
  rmSync(scratch, { recursive: true, force: true });
  if (wrotePagesDeployConfig) rmSync(pagesDeployConfigDir, { recursive: true, force: true });
}
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

const step = (text) => console.log(`\n== ${text}`);
function fail(message) {
  console.error(`\ndeploy: ${message}`);
  process.exit(1);
}

/**
 * Runs wrangler. `capture`: returns its output instead of showing it. Otherwise the user sees
 * it, and in a terminal wrangler may ask its own questions (e.g. to register a workers.dev
 * subdomain on an account that has none).
 */
function wrangler(args, { cwd = root, capture = false, env = {} } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: capture ? ["ignore", "pipe", "pipe"] : [interactive ? "inherit" : "ignore", "inherit", "inherit"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const output = stripVTControlCharacters(stdout + stderr);
      resolvePromise({ ok: code === 0, stdout: stripVTControlCharacters(stdout), output });
    });
  });
}
async function mustSucceed(args, options) {
  const result = await wrangler(args, options);
  if (!result.ok) {
    if (options?.capture) console.error(result.output);
    fail(
      `\`wrangler ${args.join(" ")}\` failed (see above). Logged in? \`npx wrangler login\`, or set CLOUDFLARE_API_TOKEN.`,
    );
  }
  return result;
}

// --- 1. What exists ---------------------------------------------------------------------

async function existingPagesProjects() {
  if (!pages) return [];
  const { stdout } = await mustSucceed(["pages", "project", "list", "--json"], { capture: true });
  return JSON.parse(stdout).map((p) => ({ name: p["Project Name"], domains: p["Project Domains"] }));
}
async function queueExists(name) {
  const result = await wrangler(["queues", "info", name], { capture: true });
  if (result.ok) return true;
  if (result.output.includes(`Queue "${name}" does not exist`)) return false;
  console.error(result.output);
  return fail(`could not look up the queue ${name} (see above)`);
}
/** The Worker's secret names, or undefined when the Worker does not exist yet. */
async function existingWorkerSecrets() {
  const result = await wrangler(["secret", "list", "--format", "json"], { capture: true });
  if (result.ok) return JSON.parse(result.stdout).map((s) => s.name);
  if (result.output.includes(`Worker "${worker.name}" not found`)) return undefined;
  console.error(result.output);
  return fail("could not list the Worker's secrets (see above)");
}
// Pages secret commands run outside pages-app/: wrangler 4 refuses a Pages config that declares
// `secrets` (pages-app/wrangler.jsonc does, for `wrangler types`), so they name the project instead.
async function existingPagesSecrets() {
  const args = ["pages", "secret", "list", "--project-name", pages.name];
  const { stdout } = await mustSucceed(args, { capture: true, cwd: scratch });
  return [...stdout.matchAll(/^\s+- (\w+): Value Encrypted$/gm)].map((m) => m[1]);
}

// --- 2. Settings ---------------------------------------------------------------------------

const settingOf = (name) => SETTINGS[name] ?? { about: "a secret the Wrangler configuration requires", hidden: true };

/** The terminal while settings are asked for: one reader (lines typed ahead are kept), and an
 * output that can be muted, so a hidden answer is not echoed. */
let terminal;
let muted = false;

/** Asks in the terminal; Enter keeps the environment's value. */
async function ask(name) {
  const { about, hidden } = settingOf(name);
  const fromEnv = process.env[name]?.trim();
  if (!terminal) {
    const output = new Writable({
      write(chunk, _encoding, done) {
        if (!muted) process.stdout.write(chunk);
        done();
      },
    });
    terminal = createInterface({ input: process.stdin, output, terminal: true });
    terminal.on("SIGINT", () => process.exit(130));
  }
  console.log(`  ${name}: ${about}`);
  const prompt = `  ${name}${fromEnv ? " (Enter: the value in the environment)" : ""} = `;
  if (hidden) process.stdout.write(prompt);
  muted = hidden;
  const answer = await terminal.question(hidden ? "" : prompt).catch(() => fail("stopped: no answer"));
  if (hidden) process.stdout.write("\n");
  muted = false;
  return answer.trim() || fromEnv || "";
}

/** The values of `names`; stops with the commands to run when any cannot be had. */
async function gather(names, { workerExists, projectExists }) {
  const values = {};
  const missing = [];
  for (const name of names) {
    const problemWith = (value) => (value === "" ? "is empty" : settingOf(name).check?.(value));
    let value = interactive ? await ask(name) : process.env[name]?.trim() || undefined;
    while (interactive && problemWith(value)) {
      console.log(`  ${name} ${problemWith(value)}`);
      value = await ask(name);
    }
    if (value === undefined) missing.push(name);
    else if (problemWith(value)) fail(`${name} in the environment ${problemWith(value)}`);
    else values[name] = value;
  }
  terminal?.close();
  if (missing.length > 0) {
    const lines = missing.map((name) => `  ${name.padEnd(20)} ${settingOf(name).about}`);
    const once = missing.flatMap((name) => [
      ...(workerSecretNames.includes(name) && workerExists ? [`  npx wrangler secret put ${name}`] : []),
      ...(pagesSecretNames.includes(name) && projectExists
        ? [`  npx wrangler pages secret put ${name} --project-name ${pages.name}`]
        : []),
    ]);
    fail(
      [
        "these settings are not set yet, and there is no terminal to ask for them in:",
        ...lines,
        "Nothing was changed. Run it in a terminal, or give them in the environment:",
        `  ${missing.map((n) => `${n}=...`).join(" ")} npm run deploy`,
        ...(once.length > 0 ? ["or set them once (then `npm run deploy` finds them):", ...once] : []),
      ].join("\n"),
    );
  }
  return values;
}

// --- 6. The Pages app's deploy configuration ---------------------------------------------

/**
 * `wrangler pages deploy` (4.x) refuses a config with `secrets`, so when pages-app/wrangler.jsonc
 * has them the app is deployed from a copy without them, through wrangler's redirect file
 * (.wrangler/deploy/config.json, removed afterwards). The copy also leaves out any `vars` entry
 * named like a Pages secret: the secret is the deployed value.
 */
function writePagesDeployConfig() {
  const { rawConfig } = experimental_readRawConfig({ config: join(pagesDir, "wrangler.jsonc") });
  const { $schema, secrets, ...config } = rawConfig;
  const shadowed = Object.keys(config.vars ?? {}).filter((name) => pagesSecretNames.includes(name));
  if (secrets === undefined && shadowed.length === 0) return;
  if (existsSync(pagesDeployConfigDir)) {
    fail(`${relative(root, pagesDeployConfigDir)} exists (left by a build tool?): remove it and run again`);
  }
  for (const name of shadowed) {
    console.log(`  ${name}: the Pages secret replaces the value in pages-app/wrangler.jsonc "vars" (local dev only)`);
    delete config.vars[name];
  }
  config.pages_build_output_dir = relative(pagesDeployConfigDir, pages.pages_build_output_dir);
  mkdirSync(pagesDeployConfigDir, { recursive: true });
  wrotePagesDeployConfig = true;
  writeFileSync(join(pagesDeployConfigDir, "wrangler.json"), JSON.stringify(config, null, 2));
  writeFileSync(join(pagesDeployConfigDir, "config.json"), JSON.stringify({ configPath: "wrangler.json" }));
}

/** The entries wrangler wrote to its output file (WRANGLER_OUTPUT_FILE_PATH) during one command. */
function outputEntries(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

// --- The run ------------------------------------------------------------------------------

// A setting given in the environment is checked before anything is looked up or changed.
for (const [name, { check }] of Object.entries(SETTINGS)) {
  const value = process.env[name]?.trim();
  const problem = value && check?.(value);
  if (problem) fail(`${name} in the environment ${problem}. Nothing was changed.`);
}

step("1/7 Looking up what exists");
const [projects, queues, workerSecrets] = await Promise.all([
  existingPagesProjects(),
  Promise.all(queueNames.map(async (name) => ({ name, exists: await queueExists(name) }))),
  existingWorkerSecrets(),
]);
const project = pages && projects.find((p) => p.name === pages.name);
const pagesSecrets = project ? await existingPagesSecrets() : [];
const workerExists = workerSecrets !== undefined;
console.log(
  `  Worker ${worker.name}: ${workerExists ? `deployed, secrets: ${workerSecrets.join(", ") || "none"}` : "new"}`,
);
for (const q of queues) console.log(`  Queue ${q.name}: ${q.exists ? "exists" : "new"}`);
if (pages) {
  console.log(
    `  Pages project ${pages.name}: ${project ? `exists, secrets: ${pagesSecrets.join(", ") || "none"}` : "new"}`,
  );
}

step("2/7 Settings");
const workerUrlOverride = process.env.WORKER_URL?.trim();
if (workerUrlOverride && !isHttpsOrigin(workerUrlOverride)) {
  fail(`WORKER_URL in the environment is ${workerUrlOverride}: the Pages app needs the Worker's public https URL`);
}
const missingWorkerSecrets = workerSecretNames.filter((name) => !workerSecrets?.includes(name));
const missingPagesSecrets = pagesSecretNames.filter((name) => name !== "WORKER_URL" && !pagesSecrets.includes(name));
const needed = [...new Set([...missingWorkerSecrets, ...missingPagesSecrets])];
const values = await gather(needed, { workerExists, projectExists: Boolean(project) });
console.log(needed.length > 0 ? `  to set: ${needed.join(", ")}` : "  all set");

step("3/7 Creating what is missing");
for (const q of queues.filter((q) => !q.exists)) {
  await mustSucceed(["queues", "create", q.name], { capture: true });
  console.log(`  created the queue ${q.name}`);
}
if (pages && !project) {
  // From pages-app/, so wrangler sees a project with Functions (a Pages project, as asked).
  const args = ["pages", "project", "create", pages.name, "--production-branch", productionBranch];
  await mustSucceed(args, { cwd: pagesDir, capture: true });
  console.log(`  created the Pages project ${pages.name} (production branch ${productionBranch})`);
}
if ((project || !pages) && queues.every((q) => q.exists)) console.log("  nothing");

step("4/7 Deploying the Worker");
const workerOutput = join(scratch, "worker-output.jsonl");
const workerArgs = ["deploy"];
if (missingWorkerSecrets.length > 0) {
  const secretsFile = join(scratch, "worker-secrets.json");
  writeFileSync(secretsFile, JSON.stringify(Object.fromEntries(missingWorkerSecrets.map((n) => [n, values[n]]))), {
    mode: 0o600,
  });
  workerArgs.push("--secrets-file", secretsFile);
}
await mustSucceed(workerArgs, { env: { WRANGLER_OUTPUT_FILE_PATH: workerOutput } });
const deployed = outputEntries(workerOutput).find((e) => e.type === "deploy");
const workerUrl = workerUrlOverride || deployed?.targets?.find(isHttpsOrigin);
if (!workerUrl) {
  fail("the Worker's deploy reported no workers.dev URL: set WORKER_URL to the Worker's public https URL");
}

let pagesDeploy;
if (pages) {
  step("5/7 Setting the Pages app's secrets");
  const pagesSecretsFile = join(scratch, "pages-secrets.json");
  const pagesValues = { ...Object.fromEntries(missingPagesSecrets.map((n) => [n, values[n]])), WORKER_URL: workerUrl };
  writeFileSync(pagesSecretsFile, JSON.stringify(pagesValues), { mode: 0o600 });
  await mustSucceed(["pages", "secret", "bulk", pagesSecretsFile, "--project-name", pages.name], { cwd: scratch });

  step("6/7 Deploying the Pages app");
  writePagesDeployConfig();
  const pagesOutput = join(scratch, "pages-output.jsonl");
  await mustSucceed(["pages", "deploy", "--branch", productionBranch], {
    cwd: pagesDir,
    env: { WRANGLER_OUTPUT_FILE_PATH: pagesOutput },
  });
  pagesDeploy = outputEntries(pagesOutput).find((e) => e.type === "pages-deploy-detailed");
  if (pagesDeploy && pagesDeploy.environment !== "production") {
    console.warn(
      `  This was a preview deployment: the project's production branch is ${pagesDeploy.production_branch}.` +
        ` Run again with PAGES_PRODUCTION_BRANCH=${pagesDeploy.production_branch}.`,
    );
  }
} else {
  step("5/7, 6/7 No Pages app (pages-app/ was removed): nothing to deploy there");
}

step("7/7 Deployed");
const pagesUrl = pages && (pagesDeploy?.alias ?? `https://${pages.name}.pages.dev`);
console.log(
  [
    `  Worker     ${workerUrl}   (version ${deployed?.version_id ?? "?"}; its API needs the API_TOKEN bearer token)`,
    ...(pages ? [`  Pages app  ${pagesUrl}   (this deployment: ${pagesDeploy?.url ?? "?"})`] : []),
    `  Queues     ${queueNames.join(", ") || "none"}`,
    `  Secrets    Worker: ${workerSecretNames.join(", ")}${pages ? `; Pages app: ${pagesSecretNames.join(", ")}` : ""}`,
    ...(pages
      ? [
          "  The Pages app admits only callers Cloudflare Access lets through: protect its domain with the",
          "  Access application whose AUD you gave (docs/deploy.md, Access).",
        ]
      : []),
  ].join("\n"),
);
