// Starts and stops a real `wrangler dev` for the end-to-end scripts: loopback only, a
// free port, its own state directory and API token, its own process group (so one
// signal reaches wrangler and the workerd it spawns), never the user's .dev.vars.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
// wrangler's CLI entry, run with this Node (24 under `npm run`), not the system's.
const WRANGLER = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

/** A TCP port nothing listens on right now, on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const newStateDir = (name) => mkdtempSync(join(tmpdir(), `${name}-`));
export const newToken = () => `e2e-${randomBytes(24).toString("hex")}`;

/**
 * Runs wrangler with `args` in its own process group (so a kill reaches the workerd it
 * spawns too) and waits until `readyPath` on the port answers 200 (asked with `readyHeaders`).
 * @param {{ args: string[], cwd: string, port: number, readyPath: string, readyHeaders?: Record<string, string>, env?: Record<string, string>, timeoutMs?: number, what: string }} options
 */
export async function spawnWrangler({
  args,
  cwd,
  port,
  readyPath,
  readyHeaders = {},
  env = {},
  timeoutMs = 90_000,
  what,
}) {
  const output = [];
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  child.stdout.on("data", (d) => output.push(String(d)));
  child.stderr.on("data", (d) => output.push(String(d)));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const baseUrl = `http://127.0.0.1:${port}`;
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const server = {
    baseUrl,
    port,
    pid: child.pid,
    output: () => output.join(""),
    /** Sends `signal` to wrangler's whole process group and waits for wrangler to exit. */
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) {
        killGroup("SIGKILL");
        return exited;
      }
      killGroup(signal);
      const timer = setTimeout(() => killGroup("SIGKILL"), 10_000);
      const result = await exited;
      clearTimeout(timer);
      // workerd may outlive wrangler for a moment; make sure the group is gone.
      killGroup("SIGKILL");
      return result;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    try {
      const res = await fetch(`${baseUrl}${readyPath}`, { headers: readyHeaders, signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await server.stop("SIGKILL");
  throw new Error(`${what} did not become ready on ${baseUrl}:\n${server.output().slice(-4000)}`);
}

/**
 * The flags every local server of a run gets, from `wrangler dev` and `wrangler pages dev` alike:
 * loopback only, a free inspector port, its own state directory, no interactive session.
 * @param {number} port
 * @param {string} persistTo
 */
export async function localServerFlags(port, persistTo) {
  return [
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
}

/**
 * Starts `wrangler dev` and waits until /health answers.
 * @param {{ stateDir: string, token: string, vars?: Record<string, string>, port?: number, env?: Record<string, string>, timeoutMs?: number }} options
 *   env: extra environment for wrangler (e.g. WRANGLER_REGISTRY_PATH, its own dev registry)
 */
export async function startDevServer({ stateDir, token, vars = {}, port, env = {}, timeoutMs = 90_000 }) {
  port ??= await freePort();
  // The secret goes through an env file of our own (mode 0600): with --env-file, wrangler
  // does not read the project's .dev.vars, so the user's token is never used or needed.
  const envFile = join(stateDir, "e2e.env");
  writeFileSync(envFile, `API_TOKEN=${token}\n`);
  chmodSync(envFile, 0o600);
  return spawnWrangler({
    what: "wrangler dev",
    args: [
      "dev",
      ...(await localServerFlags(port, join(stateDir, "state"))),
      "--env-file",
      envFile,
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    cwd: new URL("../..", import.meta.url).pathname,
    port,
    readyPath: "/health",
    env: { ...env, API_TOKEN: token },
    timeoutMs,
  });
}

/** A small JSON client for the Worker's API with the run's token. */
export function apiClient(baseUrl, token) {
  return async function call(method, path, body) {
    const started = performance.now();
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text, ms: performance.now() - started, headers: res.headers };
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once, stopping at `deadline`. */
export async function pool(count, concurrency, task, deadline = Infinity) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && Date.now() < deadline) await task(next++);
    }),
  );
  return next;
}

export const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
