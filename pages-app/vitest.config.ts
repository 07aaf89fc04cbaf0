import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { exportJWK, generateKeyPair } from "jose";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

/**
 * The Pages Functions inside workerd, next to the real Worker.
 *
 * `npm test` builds both first (the root `pretest` script): the Functions with
 * `wrangler pages functions build` into pages-app/dist/functions, and the Worker with
 * `wrangler deploy --dry-run` into dist/worker. The built Functions are the Worker
 * under test; the built Worker runs beside it under its name in ../wrangler.jsonc, with the
 * bindings wrangler.jsonc gives it (workflows included), so:
 * - the service bindings of pages-app/wrangler.jsonc (WORKFLOW_SERVICE and the guide's
 *   WORKFLOWS_SERVICE) are real service bindings to its WorkflowService entrypoint;
 * - every outbound `fetch` of the Functions goes to that Worker (`outboundService`),
 *   so WORKER_URL can be any host and the fetch path crosses real HTTP handling,
 *   except the fetch of Cloudflare Access's signing keys: a key pair is made here,
 *   and a small Worker serves its public half at the test team's
 *   `/cdn-cgi/access/certs`, so the Functions verify real signatures.
 */
const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const TEST_API_TOKEN = "test-token-0123456789";
/** The Worker's name, as the root wrangler.jsonc gives it (a renamed fork included). */
const workerConfig = unstable_readConfig({ config: root("wrangler.jsonc") });
export const WORKER_NAME = workerConfig.name!;
const WORKER_URL = `https://${WORKER_NAME}.test`;

/** The Cloudflare Access team and application the Functions under test trust. */
const ACCESS_TEAM_DOMAIN = "https://workflows-test.cloudflareaccess.com";
const ACCESS_AUD = "3f1e5c0a9d7b4e2f8a6c1d0b9e8f7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a";
/** A team whose keys cannot be fetched (its certs URL answers 500). */
const UNREACHABLE_TEAM_DOMAIN = "https://unreachable-team.cloudflareaccess.com";
/** A team whose keys take a moment to arrive, first asked for by one test (its Functions start cold). */
const COLD_TEAM_DOMAIN = "https://cold-team.cloudflareaccess.com";
const KEY_ID = "test-key-1";
const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
const accessJwks = { keys: [{ ...(await exportJWK(publicKey)), kid: KEY_ID, alg: "RS256", use: "sig" }] };

const teamHosts = [ACCESS_TEAM_DOMAIN, UNREACHABLE_TEAM_DOMAIN, COLD_TEAM_DOMAIN].map((domain) => new URL(domain).host);

/**
 * The Access teams' keys endpoints, counting the key fetches each host was asked
 * (GET /count?host=), so a test can tell how often the Functions fetch keys: the test
 * team serves the keys above, the cold team the same after 300 ms, the unreachable
 * team a 500.
 */
const accessTeam = {
  name: "access-team",
  modules: true,
  script: `
    const asked = {};
    export default {
      async fetch(request, env) {
        const { host, pathname, searchParams } = new URL(request.url);
        if (pathname === "/count") return Response.json({ served: asked[searchParams.get("host")] ?? 0 });
        if (pathname !== "/cdn-cgi/access/certs") return new Response("not found", { status: 404 });
        asked[host] = (asked[host] ?? 0) + 1;
        if (host === env.UNREACHABLE_HOST) return new Response("unavailable", { status: 500 });
        if (host === env.COLD_HOST) await new Promise((resolve) => setTimeout(resolve, 300));
        return Response.json(env.JWKS);
      },
    };`,
  bindings: {
    JWKS: accessJwks,
    UNREACHABLE_HOST: new URL(UNREACHABLE_TEAM_DOMAIN).host,
    COLD_HOST: new URL(COLD_TEAM_DOMAIN).host,
  },
};

/** A host that answers every request with a redirect to the Worker (a WORKER_URL that is not the Worker's own). */
const REDIRECTING_HOST = "redirecting.test";

/**
 * Where the Functions' outbound fetches go: the Access teams' hosts to their keys above,
 * the redirecting host to a 307 towards the Worker, anything else to the Worker named `worker`.
 */
const outbound = (worker: string) => ({
  name: `outbound-to-${worker}`,
  modules: true,
  script: `
    export default {
      fetch(request, env) {
        const url = new URL(request.url);
        if (env.TEAM_HOSTS.includes(url.host)) return env.ACCESS.fetch(request);
        if (url.host === env.REDIRECTING_HOST) {
          url.host = env.WORKER_HOST;
          return Response.redirect(url.href, 307);
        }
        return env.WORKER.fetch(request);
      },
    };`,
  bindings: { TEAM_HOSTS: teamHosts, REDIRECTING_HOST, WORKER_HOST: new URL(WORKER_URL).host },
  serviceBindings: { ACCESS: accessTeam.name, WORKER: worker },
});

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
  // The real limiter stays in the path of every create, with a budget the suite cannot
  // spend: every test's creates share a key or two (the Pages token, the test user).
  ratelimits: Object.fromEntries(
    Object.entries(workerOptions.ratelimits ?? {}).map(([binding, limiter]) => [
      binding,
      { ...limiter, simple: { ...limiter.simple, limit: 1_000_000 } },
    ]),
  ),
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
        throw new Error(
          `pages-app/wrangler.jsonc: ${binding} binds ${service}, not ${WORKER_NAME} (npm run types makes it follow)`,
        );
      return [binding, { name: worker, ...(entrypoint ? { entrypoint } : {}) }];
    }),
  );

/**
 * The static files (`pages_build_output_dir`) where the Functions' `next()` ends up:
 * Pages serves them through an `ASSETS` binding, played here by a Worker that answers
 * with the files of public/ (`/` is index.html) and 404 for anything else.
 */
const publicDir = here("public");
const staticFiles = Object.fromEntries(
  readdirSync(publicDir, { recursive: true, encoding: "utf8" })
    .filter((path) => /\.(html|css|js)$/.test(path))
    .map((path) => [`/${path}`, readFileSync(`${publicDir}/${path}`, "utf8")]),
);
const staticAssets = {
  name: "pages-static-assets",
  modules: true,
  script: `
    const types = { html: "text/html; charset=utf-8", css: "text/css", js: "text/javascript" };
    export default {
      fetch(request, env) {
        const { pathname } = new URL(request.url);
        const path = pathname === "/" ? "/index.html" : pathname;
        const body = env.FILES[path];
        if (body === undefined) return new Response("not found", { status: 404 });
        return new Response(request.method === "HEAD" ? null : body, {
          headers: { "content-type": types[path.split(".").pop()] },
        });
      },
    };`,
  bindings: { FILES: staticFiles },
};

/** The settings a deployed Pages project has as secrets (pages-app/wrangler.jsonc `secrets.required`). */
const deployedSettings = { API_TOKEN: TEST_API_TOKEN, WORKER_URL, ACCESS_TEAM_DOMAIN, ACCESS_AUD };
if (Object.keys(deployedSettings).sort().join() !== [...(pagesConfig.secrets?.required ?? [])].sort().join())
  throw new Error("pages-app/vitest.config.ts: the test settings must be pages-app/wrangler.jsonc's secrets.required");

/** The Pages project's bindings as pages-app/wrangler.jsonc declares them, with `settings` as its secrets. */
const pagesBindings = (settings: Record<string, string>, worker = WORKER_NAME) => ({
  compatibilityDate: pagesConfig.compatibility_date,
  compatibilityFlags: pagesConfig.compatibility_flags,
  bindings: settings,
  serviceBindings: { ...serviceBindingsTo(worker), ASSETS: staticAssets.name },
  outboundService: outbound(worker).name,
});

/** The same built Functions, deployed with other settings, as a Worker a test reaches by binding. */
const pagesVariant = (name: string, settings: Record<string, string>, worker = WORKER_NAME) => ({
  ...pagesBindings(settings, worker),
  name,
  modules: true,
  scriptPath: here("dist/functions/index.js"),
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
  // wrangler.jsonc's limit and period.
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

const { ACCESS_TEAM_DOMAIN: _team, ACCESS_AUD: _aud, ...withoutAccess } = deployedSettings;
/** A key as `npm run dev` makes one (scripts/dev.mjs). */
const LOCAL_DEV_KEY = randomBytes(32).toString("hex");
const { WORKER_URL: _url, ...withoutWorkerUrl } = deployedSettings;
const variants = {
  // A Pages project holding a token the Worker does not accept.
  PAGES_WITH_WRONG_TOKEN: pagesVariant("pages-with-wrong-token", {
    ...deployedSettings,
    API_TOKEN: "not-the-worker-token",
  }),
  // In front of the rate-limited copy of the Worker.
  PAGES_RATE_LIMITED: pagesVariant("pages-rate-limited", deployedSettings, RATE_LIMITED_WORKER),
  // Deployed without the Access settings: every request is refused.
  PAGES_WITHOUT_ACCESS: pagesVariant("pages-without-access", withoutAccess),
  // As `npm run dev` runs it: no Access settings, the local-only open mode.
  PAGES_LOCAL_DEV: pagesVariant("pages-local-dev", { ...withoutAccess, LOCAL_DEV_KEY }),
  // Without WORKER_URL, or with it empty.
  PAGES_WITHOUT_WORKER_URL: pagesVariant("pages-without-worker-url", withoutWorkerUrl),
  PAGES_EMPTY_WORKER_URL: pagesVariant("pages-empty-worker-url", { ...deployedSettings, WORKER_URL: " " }),
  // With an Access team whose keys cannot be fetched.
  PAGES_ACCESS_DOWN: pagesVariant("pages-access-down", {
    ...deployedSettings,
    ACCESS_TEAM_DOMAIN: UNREACHABLE_TEAM_DOMAIN,
  }),
  // With WORKER_URL on plain http (not a loopback host), or at an address that redirects.
  PAGES_HTTP_WORKER_URL: pagesVariant("pages-http-worker-url", {
    ...deployedSettings,
    WORKER_URL: WORKER_URL.replace("https:", "http:"),
  }),
  PAGES_REDIRECTED_WORKER_URL: pagesVariant("pages-redirected-worker-url", {
    ...deployedSettings,
    WORKER_URL: `https://${REDIRECTING_HOST}`,
  }),
  // With a team whose keys nobody has fetched yet, and arrive after a moment.
  PAGES_COLD_KEYS: pagesVariant("pages-cold-keys", { ...deployedSettings, ACCESS_TEAM_DOMAIN: COLD_TEAM_DOMAIN }),
  // With a "team domain" that is another host: refused, never fetched from.
  PAGES_FOREIGN_TEAM: pagesVariant("pages-foreign-team", {
    ...deployedSettings,
    ACCESS_TEAM_DOMAIN: "https://workflows-test.cloudflareaccess.com.evil.example",
  }),
};

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: here("dist/functions/index.js"),
      miniflare: {
        ...pagesBindings(deployedSettings),
        serviceBindings: {
          ...pagesBindings(deployedSettings).serviceBindings,
          ...Object.fromEntries(Object.entries(variants).map(([binding, worker]) => [binding, worker.name])),
          ACCESS_TEAM: accessTeam.name,
        },
        workers: [
          builtWorker,
          rateLimitedWorker,
          accessTeam,
          staticAssets,
          outbound(WORKER_NAME),
          outbound(RATE_LIMITED_WORKER),
          ...Object.values(variants),
        ],
      },
    }),
  ],
  test: {
    name: "pages",
    root: here("."),
    include: ["test/**/*.test.ts"],
    provide: {
      createRateLimit,
      localDevKey: LOCAL_DEV_KEY,
      workflowNames: workerConfig.workflows.map((w) => w.name),
      access: {
        teamDomain: ACCESS_TEAM_DOMAIN,
        coldTeamDomain: COLD_TEAM_DOMAIN,
        unreachableTeamDomain: UNREACHABLE_TEAM_DOMAIN,
        audience: ACCESS_AUD,
        keyId: KEY_ID,
        privateJwk: await exportJWK(privateKey),
      },
    },
  },
});
