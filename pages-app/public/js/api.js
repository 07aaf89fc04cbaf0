// @ts-check
/**
 * Calls to this Pages app's Functions, which call the Worker:
 *   /rpc/workflows/...   the WORKFLOW_SERVICE service binding (Workers RPC)
 *   /http/workflows/...  fetch to the Worker's HTTP API with the bearer token
 *   /worker/agents/...   the Agent, through the binding's fetch (no token in the browser)
 * Every answer is a Cloudflare v4 envelope; a failure becomes an ApiError carrying
 * errors[0].message (and the field it names).
 */

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status, 0 when the Pages app did not answer
   * @param {string} [field]
   */
  constructor(message, status, field) {
    super(message);
    this.status = status;
    this.field = field;
  }

  /** The message as the dashboard shows it. */
  describe() {
    const where = this.field && !this.message.startsWith(this.field) ? `${this.field}: ` : "";
    return `${this.status ? `${this.status} ` : ""}${where}${this.message}`;
  }
}

/** @typedef {{ method: string, path: string, status: number, ms: number, error?: string }} RequestRecord */
/** @type {((record: RequestRecord) => void)[]} */
const listeners = [];
export const onRequest = (/** @type {(record: RequestRecord) => void} */ fn) => listeners.push(fn);

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ log?: boolean, quiet?: boolean, etag?: string }} [options] log: record this call even
 *   when it succeeds (default: all but GET); quiet: do not record it even when it fails; etag:
 *   the ETag of the answer the caller holds (a GET then answers 304, `notModified`, if unchanged)
 * @returns {Promise<{ result: any, info?: any, status: number, etag?: string, notModified?: boolean }>}
 */
export async function call(method, path, body, { log = method !== "GET", quiet = false, etag } = {}) {
  const started = performance.now();
  /** @param {number} status @param {string} [error] */
  const record = (status, error) => {
    if (log || (error && !quiet))
      for (const fn of listeners) fn({ method, path, status, ms: Math.round(performance.now() - started), error });
  };
  let res;
  try {
    // Every state change is JSON, body or not: the Pages app refuses any other (CSRF rule).
    /** @type {Record<string, string>} */
    const headers = method === "GET" ? {} : { "content-type": "application/json" };
    if (etag) headers["if-none-match"] = etag;
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    const error = new ApiError(`the Pages app did not answer (${e instanceof Error ? e.message : e})`, 0);
    record(0, error.message);
    throw error;
  }
  if (res.status === 304) {
    record(304);
    return { result: undefined, status: 304, etag, notModified: true };
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json && typeof json === "object" && "success" in json) {
    if (json.success) {
      record(res.status);
      return {
        result: json.result,
        info: json.result_info,
        status: res.status,
        etag: res.headers.get("etag") ?? undefined,
      };
    }
    const first = Array.isArray(json.errors) ? json.errors[0] : undefined;
    const error = new ApiError(String(first?.message ?? res.statusText ?? "request failed"), res.status, first?.field);
    record(res.status, error.message);
    throw error;
  }
  const error = new ApiError(
    res.ok ? "the answer is not a v4 envelope" : text.slice(0, 200) || res.statusText,
    res.status,
  );
  record(res.status, error.message);
  throw error;
}

/** @typedef {"rpc" | "http"} Path */

/** The workflow routes of one calling path. */
export const workflowsBase = (/** @type {Path} */ path) => (path === "http" ? "/http/workflows" : "/rpc/workflows");

/** @param {Path} path @param {string} workflow @param {string} [id] */
export function instancePath(path, workflow, id) {
  const base = `${workflowsBase(path)}/${encodeURIComponent(workflow)}/instances`;
  return id === undefined ? base : `${base}/${encodeURIComponent(id)}`;
}

/** The WorkflowScheduler Agent named `name`, through the service binding's fetch. */
export const agentPath = (/** @type {string} */ name) =>
  `/worker/agents/workflow-scheduler/${encodeURIComponent(name)}`;
