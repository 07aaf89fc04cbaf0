import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { isRuntimeNoise } from "./test/runtime-noise.ts";

/** The API token the Worker under test accepts; tests send it as a bearer token. */
export const TEST_API_TOKEN = "test-token-0123456789";

// wrangler.jsonc requires the API_TOKEN secret, and wrangler, reading it for the test
// runtimes, would warn that it is missing and say where it looked: the tests bring
// their own (each runtime's `bindings` below), and wrangler's notes are not test output.
process.env.API_TOKEN ??= TEST_API_TOKEN;
process.env.WRANGLER_LOG ??= "warn";

const wranglerConfig = unstable_readConfig({ config: "./wrangler.jsonc" });

/**
 * The runtime's messages that say nothing about this project's code stay out of the
 * output (test/runtime-noise.ts says which, and why each is the runtime's own); every
 * other message still shows. Miniflare reads the runtime's messages off workerd's output
 * and @cloudflare/vitest-plugin writes each one, stack included, with one write to stdout
 * or stderr: only such writes are looked at, never the test runner's own output.
 */
const passesOnRuntimeMessage = () => /[\\/]miniflare[\\/]dist[\\/]/.test(new Error().stack ?? "");
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== "string" || !isRuntimeNoise(chunk) || !passesOnRuntimeMessage()) {
      return write(chunk, ...rest);
    }
    const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
}

/**
 * cron-schedule (which the agents SDK imports) publishes source maps whose sources it
 * does not ship, and Vite warns about each of its files on every run. Its modules load
 * here without their maps, which would point nowhere anyway.
 */
const withoutCronScheduleSourceMaps: Plugin = {
  name: "without-cron-schedule-source-maps",
  async load(id) {
    if (!/[\\/]node_modules[\\/]cron-schedule[\\/].*\.js$/.test(id)) return null;
    return { code: (await readFile(id, "utf8")).replace(/^\/\/# sourceMappingURL=.*$/m, ""), map: null };
  },
};

/** The create rate limit as wrangler.jsonc configures it (the rate-limit tests read it). */
const createRateLimit = wranglerConfig.ratelimits.find((r) => r.name === "CREATE_RATE_LIMITER")?.simple;

/**
 * wrangler.jsonc's `alias` (the stubs in bundle-stubs/), which the deploy bundle gets and
 * @cloudflare/vitest-plugin does not apply: the tests must run what ships. Wrangler matches
 * an import specifier exactly (Vite's string keys also match `key/...`, hence the RegExp:
 * the `zod` stand-in itself imports `zod/v4`).
 */
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const bundleAliases = Object.entries(wranglerConfig.alias ?? {}).map(([find, path]) => ({
  find: new RegExp(`^${escapeRegExp(find)}$`),
  replacement: fileURLToPath(new URL(path, import.meta.url)),
}));

export default defineConfig({
  test: {
    // One workerd per test worker, reused by the files it runs, instead of a fresh one per
    // file: starting a runtime and importing the Worker costs a second or more per file.
    // Files run one at a time per runtime and share its storage, so tests use their own
    // ids (uniqueId) and never assert on instances they did not create.
    isolate: false,
    // Tests mostly wait on Workflows running in workerd, so three runtimes side by side pay
    // off even on a two-core machine (measured: about 65 s against 77 s with two; four
    // were slower again). Vitest's default there is one.
    maxWorkers: Math.max(3, availableParallelism()),
    // Transformed modules are kept on disk (node_modules/.vitest-cache) for the next run:
    // the Worker imports the agents SDK, and transforming it is most of a one-file run.
    fsModuleCache: true,
    projects: [
      // The Pages Functions with the built Worker beside them (`pretest` builds both).
      "pages-app/vitest.config.ts", // part: pages
      {
        plugins: [
          withoutCronScheduleSourceMaps,
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: { API_TOKEN: TEST_API_TOKEN },
              // Every test file shares one client key; keep the real limiter in the path
              // of every create, with a budget the whole suite cannot exhaust.
              ratelimits: { CREATE_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000, period: 60 } } },
            },
          }),
        ],
        resolve: { alias: bundleAliases },
        test: {
          name: "worker",
          include: ["test/**/*.test.ts"],
          exclude: ["test/rate-limit/**", "test/deploy-bundle/**"],
          provide: {
            bundleAlias: wranglerConfig.alias ?? {},
            // The workflows wrangler.jsonc declares: test/unit/registry.test.ts holds the registry to them.
            wranglerWorkflows: wranglerConfig.workflows.map(({ name, binding, class_name }) => ({
              name,
              binding,
              class_name,
            })),
          },
          // Workflows run for real here; a shared, busy machine can take seconds.
          testTimeout: 30_000,
        },
      },
      {
        // The rate limit exactly as wrangler.jsonc configures it.
        plugins: [
          withoutCronScheduleSourceMaps,
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: { bindings: { API_TOKEN: TEST_API_TOKEN } },
          }),
        ],
        resolve: { alias: bundleAliases },
        test: {
          name: "rate-limit",
          include: ["test/rate-limit/**/*.test.ts"],
          provide: { createRateLimit },
        },
      },
      {
        // What the deploy bundle carries: built first (only when its sources changed), read
        // as a file, in Node (no runtime to start).
        test: {
          name: "deploy-bundle",
          include: ["test/deploy-bundle/**/*.test.ts"],
          globalSetup: ["test/build-under-test.mjs"],
          provide: { bundleAlias: wranglerConfig.alias ?? {} },
        },
      },
    ],
  },
});
