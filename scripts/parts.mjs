// The optional parts of this project, for `npm run remove -- <part>` (scripts/remove-part.mjs)
// and the dependency check (scripts/check-deps.mjs). What a part is, besides this list: every
// line marked `part: <name>` (in a comment: `//`, `#` or `<!-- -->`), and every block between
// `part: <name> (from here)` and `part: <name> (to here)`, in any file of the project. Those
// lines are the part's seams: its wiring in src/index.ts, its export in src/workflows/index.ts,
// its steps in .ci/run, its rows in the docs. docs/make-it-yours.md explains each part.
//
// A part's entry:
// - files: what is deleted (a trailing `/` for a folder);
// - wiredIn: the only modules outside the part that may import its modules (check-deps);
// - wrangler: how its configuration leaves wrangler.jsonc, `(config, options) => [path, value]`
//   edits (value undefined deletes), applied with jsonc-parser so comments stay;
// - scripts, dependencies: package.json entries that go with it; product: its name in the
//   `cloudflare.products` of package.json;
// - durableObjects: its Durable Object classes (see `--deployed` in remove-part.mjs).

/** Deletes the entries of an array at `path` whose `key` is one of `values`, last first (indices stay valid). */
const dropWhere = (config, path, key, values) => {
  const list = path.reduce((node, step) => node?.[step], config) ?? [];
  return list
    .map((entry, i) => [entry, i])
    .filter(([entry]) => values.includes(entry[key]))
    .reverse()
    .map(([, i]) => [[...path, i], undefined]);
};

export const PARTS = {
  agent: {
    about:
      "the WorkflowScheduler Agent (agents SDK): schedules (delay, date, cron), tracked runs, progress over WebSocket",
    files: [
      "src/agents/",
      "test/agents/",
      "test/rate-limit/agent-cron-budget.test.ts",
      "pages-app/src/agent-names.ts",
      "pages-app/test/agent-names.test.ts",
      "docs/agent.md",
      "bundle-stubs/mcp-client.js",
      "bundle-stubs/mcp-cf-worker-validator.js",
      "bundle-stubs/mimetext.js",
      "bundle-stubs/capnweb.js",
      "bundle-stubs/unused.js",
    ],
    // In the Pages app, /worker/* applies its rule of who reaches which Agent.
    wiredIn: ["src/index.ts", "pages-app/src/worker-routes.ts"],
    durableObjects: [{ binding: "WORKFLOW_SCHEDULER", className: "WorkflowScheduler" }],
    wrangler: (config) => [
      ...dropWhere(config, ["durable_objects", "bindings"], "name", ["WORKFLOW_SCHEDULER"]),
      // The stubs of agents SDK modules go with the SDK; zod's stays.
      ...["@modelcontextprotocol/client", "@modelcontextprotocol/client/validators/cf-worker", "mimetext", "capnweb"]
        .filter((key) => key in (config.alias ?? {}))
        .map((key) => [["alias", key], undefined]),
    ],
    dependencies: ["agents"],
    scripts: [],
    product: "Agents",
  },
  queue: {
    about: "the order queue: its consumer (the `queue` handler) and producer route (POST /api/queue/orders)",
    files: [
      "src/triggers/queue.ts",
      "src/api/queue.ts",
      "test/triggers/queue.test.ts",
      "test/triggers/queue-taken-id.test.ts",
    ],
    wiredIn: ["src/index.ts"],
    wrangler: () => [[["queues"], undefined]],
    dependencies: [],
    scripts: [],
    product: "Queues",
  },
  cron: {
    about:
      "the schedules: the Worker's Cron Trigger (the `scheduled` handler and its job) and `schedules` on workflow bindings",
    files: ["src/triggers/scheduled.ts", "test/triggers/scheduled.test.ts"],
    wiredIn: ["src/index.ts"],
    wrangler: (config) => [
      [["triggers"], undefined],
      ...(config.workflows ?? [])
        .map((w, i) => [w, i])
        .filter(([w]) => w.schedules !== undefined)
        .map(([, i]) => [["workflows", i, "schedules"], undefined]),
    ],
    dependencies: [],
    scripts: [],
  },
  parent: {
    about: "ParentWorkflow: fans out child orders and fans their reports back in",
    files: ["src/workflows/parent-workflow.ts", "test/parent/", "docs/parent-child.md"],
    wiredIn: ["src/workflows/index.ts"],
    wrangler: (config) => dropWhere(config, ["workflows"], "class_name", ["ParentWorkflow"]),
    dependencies: [],
    scripts: [],
  },
  pages: {
    about: "the Pages app (pages-app/) with the dashboard, its browser and fuzz runs, its process in npm run dev",
    files: [
      "pages-app/",
      "e2e/dashboard.test.mjs",
      "e2e/dashboard-size.mjs",
      "e2e/pages-fuzz.mjs",
      "e2e/screenshot.mjs",
      "e2e/lib/stack.mjs",
      "docs/pages-app.md",
      "docs/dashboard.md",
      "docs/dashboard.png",
    ],
    wiredIn: [],
    wrangler: () => [],
    dependencies: [],
    workspaces: ["pages-app"],
    product: "Pages",
    scripts: [
      "dev:pages",
      "build:pages",
      "typecheck:pages",
      "types:pages",
      "check:types:pages",
      "test:e2e",
      "test:pages-fuzz",
      "size:dashboard",
      "docs:screenshot",
    ],
  },
};
