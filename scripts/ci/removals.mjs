// CI: removing each optional part keeps a project that checks, builds and tests clean, so
// `npm run remove -- <part>` (scripts/remove-part.mjs) keeps working as the code changes.
// Each check runs on a copy of this checkout (./copy.mjs), never on the checkout itself:
//
// 1. Every Worker part at once (agent, queue, cron, parent), the Pages app kept: lint, the
//    dependency and docs checks, the deploy build, typecheck, and the whole test suite that
//    remains, the Pages app's included. A remaining test that needs a removed part at run
//    time fails here, whichever part it needs.
// 2. Each part alone, two at a time: lint, the dependency and docs checks and the deploy
//    build. No type check here: step 1 checks the types of what every removal leaves, and
//    check-deps fails if a module or test of the core or of one part imports another part,
//    which is how one removal alone could leave what the others together do not. The Pages
//    app alone also gets the type check and a run of the Worker's tests without it.
//    The Agent goes as from a deployed Worker (`--deployed`: a deleted_classes migration),
//    where step 1 takes it from one never deployed.
//
//   node scripts/ci/removals.mjs            both steps
//   node scripts/ci/removals.mjs together   step 1 only (npm run check:template -- removals)
//   node scripts/ci/removals.mjs each       step 2 only (with the fork check: -- fork)
import { PARTS } from "../parts.mjs";
import { copyProject, run } from "./copy.mjs";

const which = process.argv[2] ?? "all";
const WORKER_PARTS = Object.keys(PARTS).filter((name) => name !== "pages");

const lintAndBuild = [
  // Zero findings, as `npm run lint` is held to: a removal must not leave an unused name behind.
  ["npx", ["biome", "check", "--error-on-warnings", "."]],
  ["node", ["scripts/check-deps.mjs"]],
  ["node", ["scripts/check-docs.mjs"]],
  ["npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist/worker"]],
];

const typecheck = ["npm", ["run", "typecheck"]];

async function removeAndCheck(label, parts, removeFlags, extra = []) {
  const started = Date.now();
  const copy = copyProject(label);
  try {
    const cwd = copy.dir;
    await run(label, "node", ["scripts/remove-part.mjs", ...parts, ...removeFlags, "--no-install"], { cwd });
    for (const [command, args] of [...lintAndBuild, ...extra]) await run(label, command, args, { cwd });
  } finally {
    copy.remove();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`removals: ${label}: passed in ${seconds.toFixed(1)} s`);
  return seconds;
}

const timings = {};
const t0 = Date.now();
if (which === "all" || which === "together") {
  timings.together = await removeAndCheck(
    `without ${WORKER_PARTS.join("+")}`,
    WORKER_PARTS,
    ["--never-deployed"],
    // The whole suite; the Pages suite builds the two bundles it runs itself.
    [typecheck, ["npx", ["vitest", "run"]]],
  );
}
if (which === "all" || which === "each") {
  const queue = Object.keys(PARTS).map(
    (name) => () =>
      removeAndCheck(
        `without ${name}`,
        [name],
        name === "agent" ? ["--deployed"] : [],
        name === "pages"
          ? [typecheck, ["npx", ["vitest", "run", "--project", "worker", "test/unit", "test/integration"]]]
          : [],
      ).then((s) => (timings[name] = s)),
  );
  // Two at a time: type checks and builds are CPU-bound, and CI has two cores.
  const workers = Array.from({ length: 2 }, async () => {
    while (queue.length) await queue.shift()();
  });
  await Promise.all(workers);
}
console.log(
  `removals: all passed in ${((Date.now() - t0) / 1000).toFixed(1)} s (${Object.entries(timings)
    .map(([k, s]) => `${k} ${s.toFixed(0)} s`)
    .join(", ")})`,
);
