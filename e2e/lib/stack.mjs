// The whole local stack for browser tests: the Worker (`wrangler dev`) and the Pages app
// (`wrangler pages dev`) as two processes, as `npm run dev` runs them, each on a free
// port with its own state directory. They share a dev registry of their own
// (WRANGLER_REGISTRY_PATH), so the Pages app's WORKFLOW_SERVICE binding finds this
// Worker and never another copy of the project running on the same machine.
// Both are stopped by process group id (wrangler and the workerd it spawns).
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, localServerFlags, newStateDir, newToken, spawnWrangler, startDevServer } from "./dev-server.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Process groups still running, killed if this process exits without stopping them. */
const running = new Set();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

/**
 * Starts `wrangler pages dev` for pages-app/ and waits until its Functions reach the
 * Worker through the service binding (GET /worker/health answers 200).
 * @param {{ stateDir: string, token: string, workerUrl: string, env: Record<string, string>, timeoutMs?: number }} options
 */
async function startPagesServer({ stateDir, token, workerUrl, env, timeoutMs = 90_000 }) {
  const port = await freePort();
  const localKey = randomBytes(32).toString("hex");
  const keyHeader = { "x-local-dev-key": localKey };
  const args = [
    "pages",
    "dev",
    ...(await localServerFlags(port, join(stateDir, "pages-state"))),
    // `wrangler pages dev` ignores --env-file (it reads pages-app/.dev.vars, the user's
    // token, when present); a --binding overrides it. A random token, for this run only.
    "--binding",
    `API_TOKEN=${token}`,
    "--binding",
    `WORKER_URL=${workerUrl}`,
    // As `npm run dev`: the local-only open mode, on 127.0.0.1 (no Cloudflare Access), for
    // requests that carry this run's key.
    "--binding",
    `LOCAL_DEV_KEY=${localKey}`,
  ];
  const server = await spawnWrangler({
    what: "wrangler pages dev (reaching the Worker through its service binding)",
    args,
    cwd: join(root, "pages-app"),
    port,
    // Its Functions reach the Worker through the service binding.
    readyPath: "/worker/health",
    readyHeaders: keyHeader,
    env,
    timeoutMs,
  });
  running.add(server.pid);
  return Object.assign(server, {
    /** The header that opens the app to a script (curl's `-H`), as `npm run dev`'s key does. */
    keyHeader,
    /** The cookie the address `npm run dev` prints gives a browser (playwright's `addCookies`). */
    keyCookie: { name: `local_dev_key_${port}`, value: localKey, url: server.baseUrl },
  });
}

/**
 * Starts the Worker, then the Pages app bound to it.
 * @param {{ workerVars?: Record<string, string> }} [options] workerVars: vars for the Worker
 *   (e.g. CREATE_RATE_LIMIT: "off" for a run that creates faster than the limit allows)
 */
export async function startStack({ workerVars = {} } = {}) {
  const stateDir = newStateDir("wf-dashboard");
  const registry = join(stateDir, "registry");
  mkdirSync(registry);
  const env = { WRANGLER_REGISTRY_PATH: registry };
  const token = newToken();
  const worker = await startDevServer({ stateDir, token, env, vars: workerVars });
  running.add(worker.pid);
  let pages;
  try {
    pages = await startPagesServer({ stateDir, token, workerUrl: worker.baseUrl, env });
  } catch (error) {
    await worker.stop();
    throw error;
  }
  return {
    worker,
    pages,
    token,
    /** Stops both process groups and removes their state. */
    async stop() {
      await Promise.all([pages.stop(), worker.stop()]);
      running.delete(worker.pid);
      running.delete(pages.pid);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Launches Debian's Chromium with a fresh profile. */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  const profile = newStateDir("wf-chromium");
  // launchPersistentContext takes the profile directory (a --user-data-dir of its own).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1400, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
