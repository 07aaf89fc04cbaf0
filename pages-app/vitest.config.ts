import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

/**
 * The Pages Functions inside workerd, next to the real Worker.
 *
 * `npm test` builds both first (the root `pretest` script): the Functions with
 * `wrangler pages functions build` into pages-app/dist/functions, and the Worker with
 * `wrangler deploy --dry-run` into dist/worker. The built Functions are the Worker
 * under test; the built Worker runs beside it as `workflows-starter`, with the
 * bindings wrangler.jsonc gives it (workflows included), so:
 * - the service bindings of pages-app/wrangler.jsonc (WORKFLOW_SERVICE and the guide's
 *   WORKFLOWS_SERVICE) are real service bindings to its WorkflowService entrypoint;
 * - every outbound `fetch` of the Functions goes to that Worker (`outboundService`),
 *   so WORKER_URL can be any host and the fetch path crosses real HTTP handling.
 */
const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const TEST_API_TOKEN = "test-token-0123456789";
export const WORKER_NAME = "workflows-starter";
const WORKER_URL = "http://workflows-starter.test";

// Bindings as wrangler.jsonc declares them; the modules come from the build instead.
const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(
  root("wrangler.jsonc"),
).workerOptions;
const builtWorker = {
  ...workerOptions,
  name: WORKER_NAME,
  modules: true,
  scriptPath: root("dist/worker/index.js"),
  modulesRoot: root("dist/worker"),
  bindings: { ...workerOptions.bindings, API_TOKEN: TEST_API_TOKEN },
};

// The Pages project's config, read the way `wrangler pages dev` reads it.
const pagesConfig = unstable_readConfig({ config: here("wrangler.jsonc") });

/**
 * Its service bindings, each as miniflare wires it: by binding name, to the Worker's
 * entrypoint. Every one must name the Worker under test (the only `service` here), so a
 * binding added to wrangler.jsonc is wired without editing this file. `worker` picks
 * which running copy of it they reach.
 */
const serviceBindingsTo = (worker: string) =>
  Object.fromEntries(
    pagesConfig.services.map(({ binding, service, entrypoint }) => {
      if (service !== WORKER_NAME)
        throw new Error(`pages-app/wrangler.jsonc: ${binding} binds ${service}, not ${WORKER_NAME}`);
      return [binding, { name: worker, ...(entrypoint ? { entrypoint } : {}) }];
    }),
  );

/** The Pages project's bindings as pages-app/wrangler.jsonc declares them, plus its secret. */
const pagesBindings = (apiToken: string, worker = WORKER_NAME) => ({
  compatibilityDate: pagesConfig.compatibility_date,
  compatibilityFlags: pagesConfig.compatibility_flags,
  bindings: { API_TOKEN: apiToken, WORKER_URL },
  serviceBindings: serviceBindingsTo(worker),
  outboundService: worker,
});

/**
 * For the rate-limit test only, a second copy of the same built Worker. Its
 * CREATE_RATE_LIMITER is the real binding with wrangler.jsonc's limit and period, in a
 * namespace of its own: miniflare keeps one set of counters per `namespace_id`, and the
 * fetch path's creates all share one key (the token, no client address), so spending
 * the budget on the Worker above would limit every other test's creates for a minute.
 * Its workflows are renamed (miniflare's workflow names are global) and it consumes no
 * queue (a queue has one consumer: the Worker above).
 */
const RATE_LIMITED_WORKER = `${WORKER_NAME}-rate-limited`;
const rateLimitedWorker = {
  ...builtWorker,
  name: RATE_LIMITED_WORKER,
  ratelimits: Object.fromEntries(
    Object.entries(workerOptions.ratelimits ?? {}).map(([binding, limiter]) => [
      binding,
      { ...limiter, namespace_id: `${limiter.namespace_id}-pages-test` },
    ]),
  ),
  workflows: Object.fromEntries(
    Object.entries(workerOptions.workflows ?? {}).map(([binding, workflow]) => [
      binding,
      { ...workflow, name: `${workflow.name}-rate-limited` },
    ]),
  ),
  queueConsumers: {},
};
const createRateLimit = workerOptions.ratelimits?.CREATE_RATE_LIMITER?.simple;

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: here("dist/functions/index.js"),
      miniflare: {
        ...pagesBindings(TEST_API_TOKEN),
        serviceBindings: {
          ...pagesBindings(TEST_API_TOKEN).serviceBindings,
          // The same Functions deployed with a token the Worker does not accept ...
          PAGES_WITH_WRONG_TOKEN: "pages-with-wrong-token",
          // ... and in front of the rate-limited copy of the Worker.
          PAGES_RATE_LIMITED: "pages-rate-limited",
        },
        workers: [
          builtWorker,
          rateLimitedWorker,
          {
            ...pagesBindings("not-the-worker-token"),
            name: "pages-with-wrong-token",
            modules: true,
            scriptPath: here("dist/functions/index.js"),
          },
          {
            ...pagesBindings(TEST_API_TOKEN, RATE_LIMITED_WORKER),
            name: "pages-rate-limited",
            modules: true,
            scriptPath: here("dist/functions/index.js"),
          },
        ],
      },
    }),
  ],
  test: {
    name: "pages",
    root: here("."),
    include: ["test/**/*.test.ts"],
    provide: { createRateLimit },
  },
});
