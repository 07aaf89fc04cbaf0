import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

const wranglerConfig = unstable_readConfig({ config: "./wrangler.jsonc" });

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

/** The API token the Worker under test accepts; tests send it as a bearer token. */
export const TEST_API_TOKEN = "test-token-0123456789";

export default defineConfig({
  test: {
    // One workerd per test worker, reused by the files it runs, instead of a fresh one per
    // file: starting a runtime and importing the Worker costs a second or more per file.
    // Files run one at a time per runtime and share its storage, so tests use their own
    // ids (uniqueId) and never assert on instances they did not create.
    isolate: false,
    // Tests mostly wait on Workflows running in workerd, so two runtimes in parallel pay
    // off even on a two-core machine (Vitest's default there is one).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      // The Pages Functions with the built Worker beside them (`pretest` builds both).
      "pages-app/vitest.config.ts", // part: pages
      {
        plugins: [
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
          exclude: ["test/rate-limit/**"],
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
    ],
  },
});
