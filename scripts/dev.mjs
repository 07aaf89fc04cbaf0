// `npm run dev`: the Worker (`wrangler dev`) and the Pages app (`wrangler pages dev`)
// together (the Worker alone once the Pages app is removed: docs/make-it-yours.md). They are two processes because the Worker's HTTP API needs a port of its
// own; the Pages app's WORKFLOW_SERVICE binding finds the Worker through Wrangler's
// local dev registry, and its /http/* functions fetch the Worker at WORKER_URL.
//
// Once the Worker is up, it recovers instances a previous stop left asleep (a local gap of
// `wrangler dev`: scripts/recover.mjs), and says how many it paused and resumed.
//
// Environment overrides: WORKER_PORT (8787), PAGES_PORT (8788), WORKER_INSPECTOR_PORT
// (9229), PAGES_INSPECTOR_PORT (9230), PERSIST_TO (local state directory; default
// .wrangler/state in each project), LOCAL_DEV_KEY (the Pages app's local key; default: the
// one in .wrangler/local-dev-key, made on the first run), DEV_VARS (a file of local secrets,
// API_TOKEN=..., used instead of .dev.vars and pages-app/.dev.vars). Ctrl-C stops what it started.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { recoverAll } from "./recover.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pagesDir = join(root, "pages-app");
const withPages = existsSync(join(pagesDir, "wrangler.jsonc"));
const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");

const port = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`dev: ${name}=${process.env[name]} is not a port number`);
    process.exit(2);
  }
  return value;
};
const workerPort = port("WORKER_PORT", 8787);
const pagesPort = port("PAGES_PORT", 8788);
const workerInspectorPort = port("WORKER_INSPECTOR_PORT", 9229);
const pagesInspectorPort = port("PAGES_INSPECTOR_PORT", 9230);
const persistTo = process.env.PERSIST_TO ? resolve(process.env.PERSIST_TO) : undefined;
const host = "127.0.0.1";
const workerUrl = `http://${host}:${workerPort}`;

// Local secrets. The Worker refuses every API request without API_TOKEN, and the
// Pages app's fetch path must send that same token.
const tokenOf = (file) => readFileSync(file, "utf8").match(/^\s*API_TOKEN\s*=\s*"?([^"\r\n]*)"?\s*$/m)?.[1];
const devVars = process.env.DEV_VARS ? resolve(process.env.DEV_VARS) : undefined;
const workerVars = devVars ?? join(root, ".dev.vars");
const pagesVars = join(pagesDir, ".dev.vars");
if (!existsSync(workerVars)) {
  if (devVars) {
    console.error(`dev: DEV_VARS names ${devVars}, which does not exist`);
    process.exit(2);
  }
  copyFileSync(join(root, ".dev.vars.example"), workerVars);
  console.log("dev: created .dev.vars from .dev.vars.example (change API_TOKEN before sharing this machine)");
}
const token = tokenOf(workerVars);
if (!token) {
  console.error(`dev: ${devVars ?? ".dev.vars"} has no API_TOKEN=...; the Worker would refuse every API request`);
  process.exit(2);
}
if (!withPages || devVars) {
  // No Pages app, or DEV_VARS: the token goes to it as a binding.
} else if (!existsSync(pagesVars)) {
  writeFileSync(pagesVars, `# Must equal API_TOKEN in ../.dev.vars (created by npm run dev).\nAPI_TOKEN=${token}\n`);
  console.log("dev: created pages-app/.dev.vars with the Worker's API_TOKEN");
} else if (tokenOf(pagesVars) !== token) {
  console.warn("dev: API_TOKEN in pages-app/.dev.vars differs from .dev.vars: the /http/* functions will get 401");
}

// The Pages app's local key (pages-app/src/local-dev.ts): without Cloudflare Access, the app
// opens only to requests to a loopback host that carry it, so a proxy or tunnel that rewrites
// Host to localhost cannot open it to others. One per checkout, kept where `.gitignore` keeps
// wrangler's state; the address printed below carries it to the browser (as a cookie).
const keyFile = join(root, ".wrangler", "local-dev-key");
function localDevKey() {
  if (process.env.LOCAL_DEV_KEY) return process.env.LOCAL_DEV_KEY;
  if (existsSync(keyFile)) return readFileSync(keyFile, "utf8").trim();
  const key = randomBytes(32).toString("hex");
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  return key;
}
const pagesKey = withPages ? localDevKey() : undefined;

/** Children by PID; each leads its own process group, so its workerd stops with it. */
const children = new Map();
const ready = new Map();
const starting = new Set();

/**
 * Known local gap of `wrangler dev` (docs/reliability.md#restarts-measured): an instance that
 * was inside `step.sleep` when the dev server stopped reports `running` after a restart but
 * never wakes. Pausing and resuming every running instance re-arms its timer (one waiting for
 * an event keeps waiting; events sent meanwhile are buffered). Nothing runs on a fresh state.
 */
async function recoverSleepers() {
  try {
    for (let tries = 0; tries < 100; tries++) {
      const health = await fetch(`${workerUrl}/health`).catch(() => undefined);
      if (health?.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const recovered = (await recoverAll({ baseUrl: workerUrl, token })).flatMap(({ results }) => results);
    const resumed = recovered.filter((r) => r.outcome === "resumed").length;
    const refused = recovered.filter((r) => r.outcome.includes("refused"));
    if (resumed > 0) {
      console.log(
        `dev: paused and resumed ${resumed} instance(s) that were running when wrangler dev last stopped, ` +
          "so those asleep in step.sleep wake up (a local wrangler dev gap: docs/reliability.md)",
      );
    }
    for (const r of refused) console.warn(`dev: could not recover ${r.id}: ${r.outcome}`);
  } catch (error) {
    console.warn(`dev: could not look for instances the last stop left asleep (${error.message}); run npm run recover`);
  }
}
let stopping = false;

function start(name, args, cwd) {
  const child = spawn(process.execPath, [wrangler, ...args], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? "1" : "0") },
  });
  children.set(child.pid, name);
  const label = `[${name}]`.padEnd(9);
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        (stream === child.stderr ? process.stderr : process.stdout).write(`${label} ${line}\n`);
        const url = line.match(/Ready on (https?:\/\/\S+)/)?.[1];
        if (url && !ready.has(name) && !starting.has(name)) {
          starting.add(name);
          // The Worker counts as ready once it has recovered what the last stop left asleep.
          (name === "worker" ? recoverSleepers() : Promise.resolve()).then(() => {
            ready.set(name, url);
            if (ready.size === (withPages ? 2 : 1)) announce();
          });
        }
      }
    });
  }
  child.on("exit", (code, signal) => {
    children.delete(child.pid);
    if (!stopping) {
      console.error(`dev: ${name} exited (${signal ?? `code ${code}`}); stopping the other process`);
      stop(code || 1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
  return child;
}

function announce() {
  console.log(
    [
      "",
      "  Workflows starter is running:",
      `    Worker    ${ready.get("worker")}   HTTP API under /api (Authorization: Bearer <API_TOKEN from .dev.vars>)`,
      ...(withPages
        ? [
            `    Pages app ${ready.get("pages")}/?local_dev_key=${pagesKey}`,
            "              open this address: it gives your browser this machine's key, without which the app",
            "              (the dashboard, /rpc/workflows/*, /http/workflows/*, /seed/create, /worker/*) answers 401;",
            '              curl: -H "x-local-dev-key: $(cat .wrangler/local-dev-key)" (docs/local-dev.md);',
            "              wrangler's warning about missing WORKER_URL, ACCESS_TEAM_DOMAIN, ACCESS_AUD secrets is expected here",
          ]
        : []),
      "  wrangler's note that workflows_preserve_non_retryable_error_message is now the default is expected:",
      "  the local Workflows engine still needs the flag to keep a NonRetryableError's message (docs/local-dev.md).",
      withPages ? "  Ctrl-C stops both." : "  Ctrl-C stops it.",
      "",
    ].join("\n"),
  );
}

function signalAll(signal) {
  for (const pid of children.keys()) {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }
}

function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  process.exitCode = exitCode;
  if (children.size === 0) process.exit(exitCode);
  signalAll("SIGINT");
  // Wrangler stops workerd and exits on SIGINT; anything still alive after that is killed.
  setTimeout(() => {
    signalAll("SIGKILL");
    process.exit(exitCode);
  }, 8000).unref();
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => stop(signal === "SIGINT" ? 130 : 143));
}
process.on("exit", () => signalAll("SIGKILL"));

const shared = ["--ip", host, "--show-interactive-dev-session=false"];
start(
  "worker",
  [
    "dev",
    "--port",
    String(workerPort),
    "--inspector-port",
    String(workerInspectorPort),
    ...shared,
    ...(persistTo ? ["--persist-to", join(persistTo, "worker")] : []),
    ...(devVars ? ["--env-file", devVars] : []),
  ],
  root,
);
if (withPages) {
  start(
    "pages",
    [
      "pages",
      "dev",
      "--port",
      String(pagesPort),
      "--inspector-port",
      String(pagesInspectorPort),
      // WORKER_URL is a secret with no default (pages-app/wrangler.jsonc): the local Worker's.
      "--binding",
      `WORKER_URL=${workerUrl}`,
      // The local-only open mode: no Cloudflare Access here. The Pages app honours it only
      // for requests to a loopback host that carry the key, and no config file holds it, so
      // no deploy has it.
      "--binding",
      `LOCAL_DEV_KEY=${pagesKey}`,
      // `wrangler pages dev` reads no env file but pages-app/.dev.vars: DEV_VARS's token as a binding.
      ...(devVars ? ["--binding", `API_TOKEN=${token}`] : []),
      ...shared,
      ...(persistTo ? ["--persist-to", join(persistTo, "pages")] : []),
    ],
    pagesDir,
  );
}
