// `npm run deploy:rehearse`: runs `npm run deploy` offline against a stand-in of the Cloudflare
// API (api-stand-in.mjs) and checks what reached it (checks.mjs). These runs on one account:
//   refused  no settings and no terminal: must stop before changing anything, naming them;
//   bad API_TOKEN  the settings with a token the Worker could not safely use (the public example
//            token, one too short, one with a character no bearer token carries): each must stop
//            before calling the API at all, saying what is wrong;
//   first    the settings in the environment: creates the queue and the Pages project, deploys;
//   second   no settings: finds everything in place, creates and asks for nothing, deploys again.
// Wrangler reaches the stand-in through CLOUDFLARE_API_BASE_URL, with a dummy token and account,
// its own cache and config directories, and no metrics, error reports or update check.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { unstable_readConfig } from "wrangler";
import { checkRehearsal, unnoticedMissingBindings } from "./checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), "deploy-rehearsal-"));
const journal = join(dir, "journal.jsonl");
const accountId = randomBytes(16).toString("hex");
const workersDevSubdomain = "rehearsal";
const productionBranch = "main";
const pagesConfig = join(root, "pages-app", "wrangler.jsonc");
const config = {
  worker: unstable_readConfig({ config: join(root, "wrangler.jsonc") }),
  // None once the Pages app is removed (npm run remove -- pages): the Worker is deployed alone.
  pages: existsSync(pagesConfig) ? unstable_readConfig({ config: pagesConfig }) : undefined,
};

/** What the first deploy is given, as a user would in the environment. */
const settings = {
  API_TOKEN: `rehearsal-${randomBytes(16).toString("hex")}`,
  ...(config.pages && {
    ACCESS_TEAM_DOMAIN: "https://rehearsal.cloudflareaccess.com",
    ACCESS_AUD: randomBytes(32).toString("hex"),
  }),
};

// --- The stand-in: its own process, stopped by its PID.
const standIn = spawn(process.execPath, [join(here, "api-stand-in.mjs"), journal, accountId, workersDevSubdomain], {
  stdio: ["ignore", "pipe", "inherit"],
});
const stopStandIn = () => {
  if (standIn.exitCode === null && standIn.signalCode === null) process.kill(standIn.pid, "SIGTERM");
};
process.on("exit", stopStandIn);
const port = await new Promise((resolvePort, reject) => {
  let out = "";
  standIn.stdout.on("data", (d) => {
    out += d;
    const match = out.match(/listening (\d+)/);
    if (match) resolvePort(Number(match[1]));
  });
  standIn.on("exit", (code) => reject(new Error(`the API stand-in exited (${code}) before listening`)));
});

/** The environment of one `npm run deploy`: the user's, minus anything that could reach a real account. */
function deployEnv(extra) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(CLOUDFLARE_|CF_|WRANGLER_)/.test(name) && !(name in settings) && name !== "WORKER_URL",
    ),
  );
  return {
    ...env,
    CLOUDFLARE_API_BASE_URL: `http://127.0.0.1:${port}/client/v4`,
    CLOUDFLARE_API_TOKEN: "rehearsal-api-token",
    CLOUDFLARE_ACCOUNT_ID: accountId,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    // The banner is where wrangler checks for a newer version on the registry.
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_CACHE_DIR: join(dir, "wrangler-cache"),
    XDG_CONFIG_HOME: join(dir, "config"),
    PAGES_PRODUCTION_BRANCH: productionBranch,
    FORCE_COLOR: "0",
    ...extra,
  };
}

const journalLines = () =>
  readFileSync(journal, { encoding: "utf8", flag: "a+" })
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

/** Runs `npm run deploy` with stdin closed (no terminal), showing and keeping its output. */
async function deploy(run, extraEnv) {
  console.log(`\n######## ${run} run: npm run deploy\n`);
  const before = journalLines().length;
  const npm = process.env.npm_execpath;
  const [command, args] = npm ? [process.execPath, [npm, "run", "deploy"]] : ["npm", ["run", "deploy"]];
  const child = spawn(command, args, { cwd: root, env: deployEnv(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
    process.stdout.write(d);
  });
  child.stderr.on("data", (d) => {
    output += d;
    process.stderr.write(d);
  });
  const exitCode = await new Promise((r) => child.on("exit", (code) => r(code ?? 1)));
  return { exitCode, output: stripVTControlCharacters(output), entries: journalLines().slice(before) };
}

/** API tokens `npm run deploy` must refuse, by what is wrong with them. */
const badTokens = {
  example: readFileSync(join(root, ".dev.vars.example"), "utf8").match(/^API_TOKEN=(.*)$/m)[1],
  short: randomBytes(15).toString("hex"),
  "not a bearer token": `${randomBytes(16).toString("hex")} ${randomBytes(8).toString("hex")}`,
};

const runs = {};
const badTokenRuns = {};
let outcome = 1;
try {
  runs.refused = await deploy("refused");
  for (const [why, token] of Object.entries(badTokens)) {
    badTokenRuns[why] = await deploy(`bad API_TOKEN (${why})`, { ...settings, API_TOKEN: token });
  }
  runs.first = await deploy("first", settings);
  runs.second = await deploy("second");
  stopStandIn();

  const input = {
    config,
    settings,
    workerUrl: `https://${config.worker.name}.${workersDevSubdomain}.workers.dev`,
    productionBranch,
    runs,
    badTokenRuns,
  };
  const failures = checkRehearsal(input);
  // The checks themselves must notice a binding that did not arrive.
  if (failures.length === 0) {
    for (const name of unnoticedMissingBindings(input)) failures.push(`the checks did not notice ${name} missing`);
  }

  const served = [
    ...new Set(
      [...Object.values(runs), ...Object.values(badTokenRuns)].flatMap((r) =>
        r.entries.map((e) => e.route ?? `${e.method} ${e.path}`),
      ),
    ),
  ];
  const wranglerVersion = createRequire(import.meta.url)("wrangler/package.json").version;
  console.log(`\n######## The endpoints wrangler ${wranglerVersion} called on the stand-in`);
  console.log(served.map((route) => `  ${route}`).join("\n"));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (failures.length > 0) {
    console.error(`\ndeploy:rehearse: FAILED (${seconds} s)\n${failures.map((f) => `  - ${f}`).join("\n")}`);
    console.error(`The stand-in's journal: ${journal}`);
  } else {
    console.log(`\ndeploy:rehearse: passed (${seconds} s): two deploys, everything in the config arrived once`);
    outcome = 0;
  }
} finally {
  stopStandIn();
  if (outcome === 0) rmSync(dir, { recursive: true, force: true });
}
process.exit(outcome);
