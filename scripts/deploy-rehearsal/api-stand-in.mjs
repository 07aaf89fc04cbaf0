// A stand-in for the part of the Cloudflare API that `npm run deploy` reaches through
// wrangler, for the offline rehearsal (rehearse.mjs starts it; wrangler finds it through
// CLOUDFLARE_API_BASE_URL). It keeps just enough state for a second deploy to see what the
// first one made (queues, the Worker and its migration tag, the Pages project, its secrets,
// uploaded files), and writes every request it receives to a journal that checks.mjs reads.
//
// An endpoint not listed in `routes` gets an error naming its method and path, and is
// journaled as unknown: the rehearsal fails on it, so a wrangler upgrade that calls
// something new is noticed instead of passing silently.
//
// Usage: node api-stand-in.mjs <journal.jsonl> <account id> <workers.dev subdomain>
// It prints `listening <port>` once it listens on 127.0.0.1, and stops on SIGTERM.
import { createHash, randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";

const [journalPath, accountId, workersDevSubdomain] = process.argv.slice(2);
if (!journalPath || !accountId || !workersDevSubdomain) {
  console.error("usage: node api-stand-in.mjs <journal.jsonl> <account id> <workers.dev subdomain>");
  process.exit(2);
}
const now = () => new Date().toISOString();
const hex = () => randomUUID().replaceAll("-", "");

/** What the account holds. */
const state = {
  queues: new Map(), // name -> queue
  scripts: new Map(), // name -> { bindings, migrationTag, subdomain, schedules, deployments }
  workflows: new Map(), // name -> registration
  projects: new Map(), // name -> Pages project
  deployments: new Map(), // Pages deployment id -> deployment
  assets: new Map(), // Pages asset hash -> { value (base64), contentType }
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const scriptNotFound = (name) => new ApiError(404, 10007, `This Worker does not exist on your account (${name})`);
const script = (name) => {
  const found = state.scripts.get(name);
  if (!found) throw scriptNotFound(name);
  return found;
};
const project = (name) => {
  const found = state.projects.get(name);
  if (!found) throw new ApiError(404, 8000007, `Project not found: ${name}`);
  return found;
};
const queueById = (id) => {
  const found = [...state.queues.values()].find((q) => q.queue_id === id);
  if (!found) throw new ApiError(404, 11000, `Queue not found: ${id}`);
  return found;
};
const page = (items, query) => {
  const perPage = Number(query.get("per_page") ?? 100);
  const number = Number(query.get("page") ?? 1);
  return {
    result: items.slice((number - 1) * perPage, number * perPage),
    result_info: { page: number, per_page: perPage, count: items.length, total_count: items.length },
  };
};

/**
 * A Worker's upload (the first deploy uploads the script, later ones a version; the form is
 * the same). An `inherit` binding takes the previous version's binding of that name, as the
 * platform does, and is refused when there is none; `keep_bindings` keeps the previous
 * version's bindings of those types that the upload does not name.
 */
function upload(name, form, note) {
  const metadata = JSON.parse(form.metadata);
  const worker = state.scripts.get(name) ?? { bindings: [], subdomain: { enabled: false } };
  const bindings = (metadata.bindings ?? []).map((binding) => {
    if (binding.type !== "inherit") return binding;
    const previous = worker.bindings.find((b) => b.name === binding.name);
    if (!previous) throw new ApiError(400, 10021, `Uncaught Error: inherit binding '${binding.name}' is invalid`);
    return previous;
  });
  for (const kept of worker.bindings) {
    if (metadata.keep_bindings?.includes(kept.type) && !bindings.some((b) => b.name === kept.name)) bindings.push(kept);
  }
  if (metadata.migrations) {
    const { old_tag: oldTag, new_tag: newTag } = metadata.migrations;
    if ((oldTag ?? undefined) !== worker.migrationTag) {
      throw new ApiError(400, 10079, `migration precondition failed: expected old_tag ${worker.migrationTag}`);
    }
    worker.migrationTag = newTag;
  }
  // The platform keeps a secret's value and never returns it.
  worker.bindings = bindings.map(({ text, ...binding }) =>
    binding.type === "secret_text" ? binding : { text, ...binding },
  );
  worker.versionId = randomUUID();
  state.scripts.set(name, worker);
  note.bindings = worker.bindings;
  note.migrationTag = worker.migrationTag;
  return worker;
}

/**
 * `METHOD /path/:param` -> handler({ params, query, body, note }) returning the result. What a
 * handler puts in `note` goes to the journal with the request (what the request resolved to).
 */
const routes = {
  // --- Workers: the script, its versions and deployments, settings, secrets
  "GET /accounts/:account/workers/services/:script": ({ params }) => {
    const worker = script(params.script);
    return {
      id: params.script,
      default_environment: {
        environment: "production",
        script: {
          id: params.script,
          tag: hex(),
          tags: [],
          migration_tag: worker.migrationTag,
          last_deployed_from: "wrangler",
        },
      },
    };
  },
  "PUT /accounts/:account/workers/scripts/:script": ({ params, body, note }) => {
    const worker = upload(params.script, body, note);
    return { id: params.script, etag: hex(), deployment_id: worker.versionId, migration_tag: worker.migrationTag };
  },
  "POST /accounts/:account/workers/scripts/:script/versions": ({ params, body, note }) => {
    script(params.script);
    const worker = upload(params.script, body, note);
    return { id: worker.versionId, resources: { script: { etag: hex() } } };
  },
  "GET /accounts/:account/workers/scripts/:script/deployments": ({ params }) => ({
    deployments: script(params.script).deployments ?? [],
  }),
  "POST /accounts/:account/workers/scripts/:script/deployments": ({ params, body }) => {
    const deployment = { id: randomUUID(), created_on: now(), source: "wrangler", ...body };
    script(params.script).deployments = [deployment];
    return deployment;
  },
  "PATCH /accounts/:account/workers/scripts/:script/script-settings": ({ params, body }) => {
    script(params.script);
    return body;
  },
  "GET /accounts/:account/workers/scripts/:script/settings": ({ params }) => ({
    bindings: script(params.script).bindings,
  }),
  "GET /accounts/:account/workers/scripts/:script/secrets": ({ params }) =>
    script(params.script)
      .bindings.filter((b) => b.type === "secret_text")
      .map(({ name }) => ({ name, type: "secret_text" })),
  "PUT /accounts/:account/workers/scripts/:script/schedules": ({ params, body }) => {
    script(params.script).schedules = body;
    return { schedules: body.map(({ cron }) => ({ cron, created_on: now(), modified_on: now() })) };
  },
  // --- workers.dev
  "GET /accounts/:account/workers/subdomain": () => ({ subdomain: workersDevSubdomain }),
  "GET /accounts/:account/workers/workers/:script": ({ params }) => ({
    id: params.script,
    name: params.script,
    subdomain: state.scripts.get(params.script)?.subdomain ?? { enabled: false },
  }),
  "POST /accounts/:account/workers/scripts/:script/subdomain": ({ params, body }) => {
    const worker = script(params.script);
    // Preview URLs follow workers.dev until set on their own.
    const previews = body.previews_enabled ?? worker.subdomain.previews_enabled ?? body.enabled;
    worker.subdomain = { enabled: body.enabled, previews_enabled: previews };
    return worker.subdomain;
  },
  // --- Workflows
  "GET /accounts/:account/workflows/:workflow": ({ params }) => {
    const found = state.workflows.get(params.workflow);
    if (!found) throw new ApiError(404, 10200, `Workflow not found: ${params.workflow}`);
    return found;
  },
  "PUT /accounts/:account/workflows/:workflow": ({ params, body }) => {
    script(body.script_name);
    const registration = {
      id: state.workflows.get(params.workflow)?.id ?? randomUUID(),
      name: params.workflow,
      ...body,
    };
    state.workflows.set(params.workflow, registration);
    return { ...registration, created_on: now(), modified_on: now() };
  },
  // --- Queues and their consumers
  "GET /accounts/:account/queues": ({ query }) => {
    const names = query.getAll("name");
    return page(
      [...state.queues.values()].filter((q) => names.length === 0 || names.includes(q.queue_name)),
      query,
    );
  },
  "POST /accounts/:account/queues": ({ body }) => {
    if (state.queues.has(body.queue_name)) {
      throw new ApiError(409, 11009, `A queue with name ${body.queue_name} already exists`);
    }
    const queue = {
      queue_id: hex(),
      queue_name: body.queue_name,
      created_on: now(),
      modified_on: now(),
      producers: [],
      producers_total_count: 0,
      consumers: [],
      consumers_total_count: 0,
    };
    state.queues.set(body.queue_name, queue);
    return queue;
  },
  "POST /accounts/:account/queues/:queue/consumers": ({ params, body, note }) => {
    const queue = queueById(params.queue);
    note.queue = queue.queue_name;
    script(body.script_name);
    if (queue.consumers.length > 0) throw new ApiError(409, 11004, "this queue already has a consumer");
    const consumer = { consumer_id: hex(), queue_id: queue.queue_id, script: body.script_name, ...body };
    queue.consumers.push(consumer);
    queue.consumers_total_count = queue.consumers.length;
    return consumer;
  },
  "PUT /accounts/:account/queues/:queue/consumers/:consumer": ({ params, body, note }) => {
    const queue = queueById(params.queue);
    note.queue = queue.queue_name;
    const index = queue.consumers.findIndex((c) => c.consumer_id === params.consumer);
    if (index === -1) throw new ApiError(404, 11005, `consumer not found: ${params.consumer}`);
    queue.consumers[index] = { ...queue.consumers[index], ...body, script: body.script_name };
    return queue.consumers[index];
  },
  // --- Pages projects, their secrets and deployments
  "GET /accounts/:account/pages/projects": ({ query }) => page([...state.projects.values()], query),
  "POST /accounts/:account/pages/projects": ({ body }) => {
    if (state.projects.has(body.name)) throw new ApiError(409, 8000002, `A project named ${body.name} exists`);
    const environment = () => ({ env_vars: {}, compatibility_date: "2026-11-01", compatibility_flags: [] });
    const created = {
      id: randomUUID(),
      name: body.name,
      subdomain: `${body.name}.pages.dev`,
      domains: [`${body.name}.pages.dev`],
      production_branch: body.production_branch,
      created_on: now(),
      deployment_configs: { production: environment(), preview: environment() },
    };
    state.projects.set(body.name, created);
    return created;
  },
  "GET /accounts/:account/pages/projects/:project": ({ params }) => project(params.project),
  "PATCH /accounts/:account/pages/projects/:project": ({ params, body }) => {
    const target = project(params.project);
    for (const [environment, changes] of Object.entries(body.deployment_configs ?? {})) {
      const envVars = target.deployment_configs[environment].env_vars;
      for (const [name, value] of Object.entries(changes.env_vars ?? {})) {
        if (value === null) delete envVars[name];
        // The API never returns a secret's value.
        else envVars[name] = value.type === "secret_text" ? { type: "secret_text" } : value;
      }
    }
    return target;
  },
  "GET /accounts/:account/pages/projects/:project/upload-token": ({ params }) => {
    project(params.project);
    const claims = { max_file_count_allowed: 20_000, exp: Math.floor(Date.now() / 1000) + 3600 };
    const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return { jwt: `${part({ alg: "none" })}.${part(claims)}.stand-in` };
  },
  "POST /pages/assets/check-missing": ({ body }) => body.hashes.filter((hash) => !state.assets.has(hash)),
  "POST /pages/assets/upload": ({ body }) => {
    for (const file of body) state.assets.set(file.key, { value: file.value, contentType: file.metadata?.contentType });
    return { successful_key_count: body.length };
  },
  "POST /pages/assets/upsert-hashes": () => true,
  "POST /accounts/:account/pages/projects/:project/deployments": ({ params, body }) => {
    const target = project(params.project);
    const branch = body.branch ?? target.production_branch;
    const production = branch === target.production_branch;
    const manifest = JSON.parse(body.manifest);
    const notUploaded = Object.entries(manifest).filter(([, hash]) => !state.assets.has(hash));
    if (notUploaded.length > 0) {
      throw new ApiError(400, 8000096, `files not uploaded: ${notUploaded.map(([path]) => path).join(", ")}`);
    }
    const id = randomUUID();
    const deployment = {
      id,
      project_name: target.name,
      url: `https://${id.slice(0, 8)}.${target.subdomain}`,
      aliases: [production ? `https://${target.subdomain}` : `https://${branch}.${target.subdomain}`],
      environment: production ? "production" : "preview",
      production_branch: target.production_branch,
      latest_stage: { name: "deploy", status: "success" },
      deployment_trigger: { metadata: { branch, commit_hash: body.commit_hash ?? "" } },
      created_on: now(),
    };
    state.deployments.set(id, deployment);
    target.latest_deployment = deployment;
    return deployment;
  },
  "GET /accounts/:account/pages/projects/:project/deployments/:deployment": ({ params }) => {
    const found = state.deployments.get(params.deployment);
    if (!found) throw new ApiError(404, 8000009, `Deployment not found: ${params.deployment}`);
    return found;
  },
};

const compiled = Object.entries(routes).map(([key, handler]) => {
  const [method, pattern] = key.split(" ");
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { key, method, regex: new RegExp(`^/client/v4${source}$`), names, handler };
});

// --- Request bodies: JSON, and multipart forms (a Worker upload; a Pages deployment, whose
// `_worker.bundle` file is itself a multipart form). Files are journaled as text when small
// and textual, otherwise as size and SHA-256.
async function parseMultipart(buffer, contentType) {
  const form = await new Request("http://stand-in/", {
    method: "POST",
    headers: { "content-type": contentType },
    body: buffer,
  }).formData();
  const parts = {};
  for (const [name, value] of form) {
    parts[name] = typeof value === "string" ? value : await describeFile(value);
  }
  return parts;
}
async function describeFile(file) {
  const bytes = Buffer.from(await file.arrayBuffer());
  const boundary = bytes
    .subarray(0, 200)
    .toString("latin1")
    .match(/^--([^\r\n]+)\r\n/)?.[1];
  if (boundary) {
    return { file: file.name, form: await parseMultipart(bytes, `multipart/form-data; boundary=${boundary}`) };
  }
  const described = { file: file.name, type: file.type, size: bytes.length };
  const text = bytes.toString("utf8");
  if (bytes.length <= 64 * 1024 && !text.includes("\uFFFD")) described.text = text;
  else described.sha256 = createHash("sha256").update(bytes).digest("hex");
  return described;
}
async function parseBody(req, buffer) {
  if (buffer.length === 0) return undefined;
  const contentType = req.headers["content-type"] ?? "";
  if (contentType.startsWith("multipart/form-data")) return parseMultipart(buffer, contentType);
  const text = buffer.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

let sequence = 0;
const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://stand-in");
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const entry = { n: ++sequence, method: req.method, path: url.pathname, query: url.search };
  let status = 200;
  let payload;
  try {
    const body = await parseBody(req, Buffer.concat(chunks));
    entry.body = body;
    const route = compiled.find((r) => r.method === req.method && r.regex.test(url.pathname));
    if (!route) {
      entry.unknown = true;
      throw new ApiError(404, 7003, `stand-in: no route for ${req.method} ${url.pathname}`);
    }
    entry.route = route.key;
    const values = url.pathname.match(route.regex).slice(1).map(decodeURIComponent);
    const params = Object.fromEntries(route.names.map((name, i) => [name, values[i]]));
    if (params.account !== undefined && params.account !== accountId) {
      throw new ApiError(403, 9109, `stand-in: unknown account ${params.account}`);
    }
    const note = {};
    entry.note = note;
    const result = await route.handler({ params, query: url.searchParams, body, note });
    payload = { success: true, errors: [], messages: [], ...(result?.result_info ? result : { result }) };
  } catch (error) {
    status = error instanceof ApiError ? error.status : 500;
    const code = error instanceof ApiError ? error.code : 10000;
    entry.error = { status, code, message: error.message };
    payload = { success: false, errors: [{ code, message: error.message }], messages: [], result: null };
  }
  entry.status = status;
  appendFileSync(journalPath, `${JSON.stringify(entry)}\n`);
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(payload));
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
