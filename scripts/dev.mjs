// `npm run dev`: the Worker (`wrangler dev`) and the Pages app (`wrangler pages dev`)
// together (the Worker alone once the Pages app is removed: docs/make-it-yours.md). They are two processes because the Worker's HTTP API needs a port of its
// own; the Pages app's WORKFLOW_SERVICE binding finds the Worker through Wrangler's
// local dev registry, and its /http/* functions fetch the Worker at WORKER_URL.
//
// Environment overrides: WORKER_PORT (8787), PAGES_PORT (8788), WORKER_INSPECTOR_PORT
// (9229), PAGES_INSPECTOR_PORT (9230), PERSIST_TO (local state directory; default
// .wrangler/state in each project). Ctrl-C stops what it started.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
const workerVars = join(root, ".dev.vars");
const pagesVars = join(pagesDir, ".dev.vars");
if (!existsSync(workerVars)) {
  copyFileSync(join(root, ".dev.vars.example"), workerVars);
  console.log("dev: created .dev.vars from .dev.vars.example (change API_TOKEN before sharing this machine)");
}
const token = tokenOf(workerVars);
if (!token) {
  console.error("dev: .dev.vars has no API_TOKEN=...; the Worker would refuse every API request");
  process.exit(2);
}
if (!withPages) {
  // No Pages app: nothing to give the token to.
} else if (!existsSync(pagesVars)) {
  writeFileSync(pagesVars, `# Must equal API_TOKEN in ../.dev.vars (created by npm run dev).\nAPI_TOKEN=${token}\n`);
  console.log("dev: created pages-app/.dev.vars with the Worker's API_TOKEN");
} else if (tokenOf(pagesVars) !== token) {
  console.warn("dev: API_TOKEN in pages-app/.dev.vars differs from .dev.vars: the /http/* functions will get 401");
}

/** Children by PID; each leads its own process group, so its workerd stops with it. */
const children = new Map();
const ready = new Map();
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
        if (url && !ready.has(name)) {
          ready.set(name, url);
          if (ready.size === (withPages ? 2 : 1)) announce();
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
            `    Pages app ${ready.get("pages")}   /rpc/workflows/* (service binding), /http/workflows/* (fetch), /seed/create, /worker/*`,
            "              open without Cloudflare Access on this machine only (LOCAL_DEV_OPEN, loopback hosts);",
            "              wrangler's warning about missing WORKER_URL, ACCESS_TEAM_DOMAIN, ACCESS_AUD secrets is expected here",
          ]
        : []),
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
      // for requests to a loopback host, and no config file holds it, so no deploy has it.
      "--binding",
      "LOCAL_DEV_OPEN=true",
      ...shared,
      ...(persistTo ? ["--persist-to", join(persistTo, "pages")] : []),
    ],
    pagesDir,
  );
}
