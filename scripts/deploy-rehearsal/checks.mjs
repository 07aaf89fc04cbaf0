// What the deploy rehearsal (rehearse.mjs) expects the API stand-in to have received from
// `npm run deploy`. Everything expected is derived from wrangler.jsonc and
// pages-app/wrangler.jsonc as wrangler reads them, and from the files in pages-app/, so the
// checks follow the configuration: a binding added there is expected here.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { unstable_convertConfigBindingsToStartWorkerBindings as declaredBindings } from "wrangler";

const ROUTE = {
  uploadScript: "PUT /accounts/:account/workers/scripts/:script",
  uploadVersion: "POST /accounts/:account/workers/scripts/:script/versions",
  schedules: "PUT /accounts/:account/workers/scripts/:script/schedules",
  workflow: "PUT /accounts/:account/workflows/:workflow",
  createQueue: "POST /accounts/:account/queues",
  addConsumer: "POST /accounts/:account/queues/:queue/consumers",
  updateConsumer: "PUT /accounts/:account/queues/:queue/consumers/:consumer",
  createProject: "POST /accounts/:account/pages/projects",
  patchProject: "PATCH /accounts/:account/pages/projects/:project",
  uploadAssets: "POST /pages/assets/upload",
  deployPages: "POST /accounts/:account/pages/projects/:project/deployments",
};
const show = (value) => JSON.stringify(value);
const ok = (entries) => entries.filter((e) => e.status === 200);
const calls = (entries, route) => ok(entries).filter((e) => e.route === route);

/**
 * A declared binding (wrangler's own reading of the config) in the shape of the upload's
 * metadata. Kinds this project does not use are compared by name and type only.
 */
function uploadShape(name, binding) {
  const { type } = binding;
  const shape = { name, type };
  if (type === "plain_text") return { ...shape, text: binding.value };
  if (type === "json") return { ...shape, json: binding.value };
  if (type === "secret_text") return shape;
  if (type === "durable_object_namespace") {
    return { ...shape, class_name: binding.class_name, script_name: binding.script_name };
  }
  if (type === "workflow") {
    return { ...shape, workflow_name: binding.name, class_name: binding.class_name, script_name: binding.script_name };
  }
  if (type === "queue") return { ...shape, queue_name: binding.queue_name };
  if (type === "ratelimit") return { ...shape, namespace_id: binding.namespace_id, simple: binding.simple };
  if (type === "service") return { ...shape, service: binding.service, entrypoint: binding.entrypoint };
  return shape;
}

/** Each declared binding must be in `uploaded` with the same fields, and nothing else may be. */
function compareBindings(label, expected, uploaded) {
  const failures = [];
  for (const want of expected) {
    const got = uploaded.find((b) => b.name === want.name);
    if (!got) {
      failures.push(`${label}: binding ${want.name} (${want.type}) is in the config but was not uploaded`);
      continue;
    }
    for (const [field, value] of Object.entries(want)) {
      if (value !== undefined && !isDeepStrictEqual(got[field], value)) {
        failures.push(
          `${label}: binding ${want.name}: ${field} is ${show(got[field])}, the config says ${show(value)}`,
        );
      }
    }
  }
  for (const got of uploaded) {
    if (!expected.some((w) => w.name === got.name)) {
      failures.push(`${label}: binding ${got.name} (${got.type}) was uploaded but the config does not declare it`);
    }
  }
  return failures;
}

/** Files under `dir`, as paths relative to it with `/` separators. */
const filesUnder = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) =>
      join(d.parentPath, d.name)
        .slice(dir.length + 1)
        .split("\\")
        .join("/"),
    );

/** The static files a Pages deploy uploads: all but the ones Pages treats as configuration. */
const PAGES_NOT_UPLOADED =
  /^(_worker\.js|_redirects|_headers|_routes\.json|functions|\.wrangler)(\/|$)|(^|\/)(\.DS_Store|node_modules|\.git)(\/|$)/;

/**
 * @param {object} input
 * @param {{ worker: object, pages: object }} input.config  unstable_readConfig of both configs
 * @param {Record<string, string>} input.settings  the settings the rehearsal gave the first deploy
 * @param {string} input.workerUrl  the Worker's URL on the stand-in
 * @param {string} input.productionBranch  the Pages branch every deploy must target
 * @param {Record<"refused" | "first" | "second", { exitCode: number, output: string, entries: object[] }>} input.runs
 * @param {Record<string, { exitCode: number, output: string, entries: object[] }>} [input.badTokenRuns]  runs given
 *   an API_TOKEN the deploy must refuse, by what is wrong with it
 * @returns {string[]} what is wrong, one sentence each (empty: all as expected)
 */
export function checkRehearsal({ config, settings, workerUrl, productionBranch, runs, badTokenRuns = {} }) {
  const { worker, pages } = config;
  const failures = [];
  const fail = (text) => failures.push(text);

  // Nothing wrangler called may be unknown to the stand-in, in any run.
  for (const [run, { entries }] of Object.entries(runs)) {
    for (const e of entries.filter((e) => e.unknown)) {
      fail(`${run} run: wrangler called ${e.method} ${e.path}, which the stand-in does not serve`);
    }
  }

  // What the config declares.
  const workerSecrets = worker.secrets?.required ?? [];
  const pagesSecrets = pages
    ? [...new Set([...(pages.secrets?.required ?? []), ...Object.keys(settings), "WORKER_URL"])]
    : [];
  const workerBindings = [
    ...Object.entries(declaredBindings(worker)).map(([name, b]) => uploadShape(name, b)),
    ...workerSecrets.map((name) => ({ name, type: "secret_text" })),
  ];
  // A Pages secret is the deployed value of its name: a `vars` entry of that name stays local.
  const pagesBindings = Object.entries(pages ? declaredBindings(pages) : {})
    .filter(([name]) => !pagesSecrets.includes(name))
    .map(([name, b]) => uploadShape(name, b));
  const queueNames = [
    ...new Set([
      ...worker.queues.producers.map((p) => p.queue),
      ...worker.queues.consumers.flatMap((c) => [c.queue, c.dead_letter_queue].filter(Boolean)),
    ]),
  ];
  const lastMigration = worker.migrations.at(-1);
  const workflows = worker.workflows.filter((w) => !w.script_name || w.script_name === worker.name);
  const publicDir = pages?.pages_build_output_dir;
  const staticFiles = pages ? filesUnder(publicDir).filter((f) => !PAGES_NOT_UPLOADED.test(f)) : [];
  const functionFiles = pages ? filesUnder(join(dirname(pages.configPath), "functions")) : [];

  // A deploy that lacks a setting stops before it changes anything, and says how to give it.
  const refused = runs.refused;
  if (refused.exitCode === 0) fail("refused run: the deploy succeeded without the settings");
  for (const name of Object.keys(settings)) {
    if (!refused.output.includes(name)) fail(`refused run: the message does not name the missing ${name}`);
  }
  if (!refused.output.includes("npm run deploy")) fail("refused run: the message does not give the command to run");
  for (const e of refused.entries.filter((e) => e.method !== "GET")) {
    fail(`refused run: changed something before stopping (${e.method} ${e.path})`);
  }

  // A token the Worker could not safely use stops the deploy before it calls the API at all.
  const tokenProblem = {
    example: /API_TOKEN in the environment is the public example token/,
    short: /API_TOKEN in the environment must be at least 32 characters/,
    "not a bearer token": /API_TOKEN in the environment may hold only letters, digits/,
  };
  for (const [why, message] of Object.entries(tokenProblem)) {
    const run = badTokenRuns[why];
    if (!run) {
      fail(`bad API_TOKEN (${why}): not rehearsed`);
      continue;
    }
    if (run.exitCode === 0) fail(`bad API_TOKEN (${why}): the deploy succeeded`);
    if (!message.test(run.output)) fail(`bad API_TOKEN (${why}): the message does not say ${message}`);
    if (run.entries.length > 0) {
      fail(`bad API_TOKEN (${why}): called the API before stopping (${run.entries[0].method} ${run.entries[0].path})`);
    }
  }

  const assets = new Map();
  for (const [run, { exitCode, entries }] of [
    ["first", runs.first],
    ["second", runs.second],
  ]) {
    const first = run === "first";
    if (exitCode !== 0) fail(`${run} run: npm run deploy exited with ${exitCode}`);

    // Created once: the queues and the Pages project.
    const createdQueues = calls(entries, ROUTE.createQueue).map((e) => e.body.queue_name);
    if (!isDeepStrictEqual(createdQueues.sort(), first ? [...queueNames].sort() : [])) {
      fail(`${run} run: created the queues ${show(createdQueues)}, expected ${first ? show(queueNames) : "none"}`);
    }
    const createdProjects = calls(entries, ROUTE.createProject).map(({ body }) => ({
      name: body.name,
      production_branch: body.production_branch,
    }));
    const wantProject = first && pages ? [{ name: pages.name, production_branch: productionBranch }] : [];
    if (!isDeepStrictEqual(createdProjects, wantProject)) {
      fail(`${run} run: created the Pages projects ${show(createdProjects)}, expected ${show(wantProject)}`);
    }

    // The Worker: one upload (a new script first, a new version later) with every binding.
    const uploads = [...calls(entries, ROUTE.uploadScript), ...calls(entries, ROUTE.uploadVersion)];
    if (uploads.length !== 1) {
      fail(`${run} run: ${uploads.length} Worker uploads, expected 1`);
    } else {
      const [upload] = uploads;
      const metadata = JSON.parse(upload.body.metadata);
      const label = `${run} run, Worker upload`;
      if (first && upload.route !== ROUTE.uploadScript) fail(`${label}: the first deploy did not upload a new script`);
      if (!(metadata.main_module in upload.body)) fail(`${label}: the main module ${metadata.main_module} is missing`);
      if (metadata.compatibility_date !== worker.compatibility_date) {
        fail(
          `${label}: compatibility_date ${metadata.compatibility_date}, the config says ${worker.compatibility_date}`,
        );
      }
      if (!isDeepStrictEqual(metadata.compatibility_flags, worker.compatibility_flags)) {
        fail(`${label}: compatibility_flags ${show(metadata.compatibility_flags)}`);
      }
      // The bindings the Worker has after the upload (inherited ones resolved by the stand-in).
      failures.push(...compareBindings(label, workerBindings, upload.note.bindings));
      // Secrets: sent by the first deploy with the values given, inherited (not asked for) later.
      for (const name of workerSecrets) {
        const sent = metadata.bindings.find((b) => b.name === name && b.type === "secret_text");
        if (first && sent?.text !== settings[name]) fail(`${label}: secret ${name} was not sent with the value given`);
        if (!first && sent) fail(`${label}: secret ${name} was sent again, though the Worker has it`);
      }
      // Durable Objects: every migration applied once, ending at the config's last tag.
      const wantMigrations = first && {
        new_tag: lastMigration.tag,
        steps: worker.migrations.map(({ tag, ...step }) => step),
      };
      if (!isDeepStrictEqual(metadata.migrations ?? false, wantMigrations)) {
        fail(`${label}: migrations ${show(metadata.migrations)}, expected ${show(wantMigrations || undefined)}`);
      }
      if (upload.note.migrationTag !== lastMigration.tag) {
        fail(`${label}: the Worker's migration tag is ${upload.note.migrationTag}, expected ${lastMigration.tag}`);
      }
    }

    // Cron Triggers, Workflow registrations, queue consumers.
    const schedules = calls(entries, ROUTE.schedules).map((e) => e.body);
    // Without `triggers.crons` (npm run remove -- cron) wrangler sets no Cron Triggers at all.
    const crons = worker.triggers.crons;
    const wantSchedules = crons === undefined ? [] : [crons.map((cron) => ({ cron }))];
    if (!isDeepStrictEqual(schedules, wantSchedules)) {
      fail(`${run} run: cron triggers ${show(schedules)}, expected ${show(wantSchedules)}`);
    }
    const registered = calls(entries, ROUTE.workflow);
    for (const w of workflows) {
      const got = registered.filter((e) => e.path.endsWith(`/workflows/${w.name}`)).map((e) => e.body);
      const want = {
        script_name: worker.name,
        class_name: w.class_name,
        ...(w.schedules && { schedules: [w.schedules].flat().map((cron) => ({ cron })) }),
      };
      if (got.length !== 1 || !isDeepStrictEqual(got[0], want)) {
        fail(`${run} run: workflow ${w.name} registered as ${show(got)}, expected ${show([want])}`);
      }
    }
    if (registered.length !== workflows.length) {
      fail(`${run} run: ${registered.length} workflow registrations, expected ${workflows.length}`);
    }
    const consumers = [...calls(entries, ROUTE.addConsumer), ...calls(entries, ROUTE.updateConsumer)];
    for (const c of worker.queues.consumers) {
      const got = consumers.filter((e) => e.note.queue === c.queue);
      const want = {
        type: "worker",
        dead_letter_queue: c.dead_letter_queue,
        script_name: worker.name,
        settings: {
          batch_size: c.max_batch_size,
          max_retries: c.max_retries,
          max_wait_time_ms: c.max_batch_timeout === undefined ? undefined : c.max_batch_timeout * 1000,
          max_concurrency: c.max_concurrency,
          retry_delay: c.retry_delay,
        },
      };
      const strip = (value) => JSON.parse(JSON.stringify(value));
      if (got.length !== 1 || !isDeepStrictEqual(strip(got[0].body), strip(want))) {
        fail(
          `${run} run: consumer of ${c.queue} registered as ${show(got.map((e) => e.body))}, expected ${show(want)}`,
        );
      } else if (got[0].route !== (first ? ROUTE.addConsumer : ROUTE.updateConsumer)) {
        fail(`${run} run: the consumer of ${c.queue} was ${first ? "not added" : "added again instead of updated"}`);
      }
    }

    // Without a Pages app, nothing of Pages is touched.
    if (!pages) {
      const touched = ok(entries).filter((e) => /\/pages\//.test(e.path) && e.method !== "GET");
      if (touched.length) fail(`${run} run: no Pages app, but it called ${show(touched.map((e) => e.route))}`);
      continue;
    }
    // The Pages app's secrets: all of them first, then only WORKER_URL (which follows the Worker).
    const patches = calls(entries, ROUTE.patchProject);
    const setSecrets = Object.assign({}, ...patches.map((e) => e.body.deployment_configs?.production?.env_vars));
    const wantSecrets = first ? pagesSecrets : ["WORKER_URL"];
    if (!isDeepStrictEqual(Object.keys(setSecrets).sort(), [...wantSecrets].sort())) {
      fail(`${run} run: set the Pages secrets ${show(Object.keys(setSecrets))}, expected ${show(wantSecrets)}`);
    }
    for (const name of wantSecrets) {
      const want = { type: "secret_text", value: name === "WORKER_URL" ? workerUrl : settings[name] };
      if (setSecrets[name] && !isDeepStrictEqual(setSecrets[name], want)) {
        fail(`${run} run: Pages secret ${name} set to ${show(setSecrets[name])}, expected ${show(want)}`);
      }
    }

    // The Pages deployment: every static file, the Functions with their bindings, the routes.
    for (const e of calls(entries, ROUTE.uploadAssets)) for (const file of e.body) assets.set(file.key, file.value);
    const deployments = calls(entries, ROUTE.deployPages);
    if (deployments.length !== 1) {
      fail(`${run} run: ${deployments.length} Pages deployments, expected 1`);
    } else {
      const [{ body }] = deployments;
      const label = `${run} run, Pages deployment`;
      if (body.branch !== productionBranch) fail(`${label}: branch ${body.branch}, expected ${productionBranch}`);
      const manifest = JSON.parse(body.manifest);
      for (const file of staticFiles) {
        const hash = manifest[`/${file}`];
        const uploaded = hash && assets.get(hash);
        if (!hash) fail(`${label}: ${file} is not in the manifest`);
        else if (!uploaded) fail(`${label}: ${file} (${hash}) was never uploaded`);
        else if (!Buffer.from(uploaded, "base64").equals(readFileSync(join(publicDir, file)))) {
          fail(`${label}: ${file} was uploaded with other content`);
        }
      }
      for (const path of Object.keys(manifest)) {
        if (!staticFiles.includes(path.slice(1))) fail(`${label}: ${path} is in the manifest but not in the app`);
      }
      const headers = filesUnder(publicDir).includes("_headers") && readFileSync(join(publicDir, "_headers"), "utf8");
      if (headers && body._headers?.text !== headers) fail(`${label}: _headers is missing or differs`);
      const bundle = body["_worker.bundle"]?.form;
      if (!bundle) {
        fail(`${label}: no Functions bundle (_worker.bundle)`);
      } else {
        const metadata = JSON.parse(bundle.metadata);
        if (!(metadata.main_module in bundle)) fail(`${label}: the Functions' main module is missing`);
        if (metadata.compatibility_date !== pages.compatibility_date) {
          fail(
            `${label}: compatibility_date ${metadata.compatibility_date}, the config says ${pages.compatibility_date}`,
          );
        }
        failures.push(...compareBindings(`${label}, Functions`, pagesBindings, metadata.bindings));
      }
      const routing = JSON.parse(body["functions-filepath-routing-config.json"]?.text ?? '{"routes":[]}');
      const routed = new Set(
        routing.routes.flatMap((r) => [...(r.module ?? []), ...(r.middleware ?? [])]).map((m) => m.split(":")[0]),
      );
      for (const file of functionFiles) {
        if (!routed.has(file)) fail(`${label}: the Function functions/${file} has no route`);
      }
      if (!JSON.parse(body["_routes.json"]?.text ?? "{}").include?.length) {
        fail(`${label}: no _routes.json sending requests to the Functions`);
      }
    }

    // The Pages app gets the Worker's URL: the Worker first, then the Pages secrets, then the app.
    const at = (routes) => ok(entries).findIndex((e) => routes.includes(e.route));
    const order = [at([ROUTE.uploadScript, ROUTE.uploadVersion]), at([ROUTE.patchProject]), at([ROUTE.deployPages])];
    if (order.includes(-1) || !(order[0] < order[1] && order[1] < order[2])) {
      fail(`${run} run: not in the order Worker upload, Pages secrets, Pages deployment`);
    }
  }
  return failures;
}

/**
 * The checks must see a binding go missing: takes each binding out of each Worker upload and
 * each Functions bundle the stand-in received, in turn, and returns the ones the checks missed.
 */
export function unnoticedMissingBindings(input) {
  const unnoticed = [];
  const without = (run, find, drop) => {
    const copy = structuredClone(input);
    drop(copy.runs[run].entries.find(find));
    return checkRehearsal(copy);
  };
  for (const run of ["first", "second"]) {
    const isUpload = (e) => e.status === 200 && (e.route === ROUTE.uploadScript || e.route === ROUTE.uploadVersion);
    for (const { name } of input.runs[run].entries.find(isUpload)?.note.bindings ?? []) {
      const failures = without(run, isUpload, (e) => {
        e.note.bindings = e.note.bindings.filter((b) => b.name !== name);
      });
      if (!failures.some((f) => f.includes(`binding ${name} `))) unnoticed.push(`${run} run, Worker: ${name}`);
    }
    const isDeploy = (e) => e.status === 200 && e.route === ROUTE.deployPages;
    const bundle = input.runs[run].entries.find(isDeploy)?.body["_worker.bundle"]?.form;
    for (const { name } of bundle ? JSON.parse(bundle.metadata).bindings : []) {
      const failures = without(run, isDeploy, (e) => {
        const form = e.body["_worker.bundle"].form;
        const metadata = JSON.parse(form.metadata);
        metadata.bindings = metadata.bindings.filter((b) => b.name !== name);
        form.metadata = JSON.stringify(metadata);
      });
      if (!failures.some((f) => f.includes(`binding ${name} `))) unnoticed.push(`${run} run, Pages Functions: ${name}`);
    }
  }
  return unnoticed;
}
