// A small HTTP load generator: fixed concurrency over keep-alive connections, bounded by
// a request count and a time limit, recording every request's latency.
import http from "node:http";

/**
 * One HTTP request; resolves with the status and the body text.
 * @param {http.Agent} agent
 * @param {URL} url
 * @param {{ method?: string, headers?: Record<string, string>, body?: string }} init
 * @returns {Promise<{ status: number, text: string, headers: http.IncomingHttpHeaders }>}
 */
export function request(agent, url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        agent,
        method,
        headers:
          body === undefined
            ? headers
            : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), headers: res.headers }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export const keepAliveAgent = (sockets) => new http.Agent({ keepAlive: true, maxSockets: sockets });

/** The value below which `q` of the sorted samples lie (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Sends requests from `concurrency` parallel loops until `maxRequests` were sent or
 * `maxMs` passed. `makeRequest(i)` gives the i-th request; a response whose status is
 * not `expectStatus` counts as an error (and its latency still counts); the others go
 * to `onResponse`.
 * @returns {Promise<{ latencies: number[], requests: number, errors: number, firstError?: string, elapsedMs: number, perSecond: number, p50: number, p99: number }>}
 */
export async function runLoad({ baseUrl, makeRequest, concurrency, maxRequests, maxMs, expectStatus, onResponse }) {
  const agent = keepAliveAgent(concurrency);
  const latencies = [];
  let sent = 0;
  let errors = 0;
  let firstError;
  const started = performance.now();
  const deadline = started + maxMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < maxRequests && performance.now() < deadline) {
        const { path, ...init } = makeRequest(sent++);
        const t0 = performance.now();
        try {
          const res = await request(agent, new URL(path, baseUrl), init);
          if (res.status !== expectStatus) {
            errors++;
            firstError ??= `${res.status} ${res.text.slice(0, 200)}`;
          } else {
            onResponse?.(res);
          }
        } catch (error) {
          errors++;
          firstError ??= String(error);
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    latencies,
    requests: latencies.length,
    errors,
    firstError,
    elapsedMs,
    perSecond: (latencies.length / elapsedMs) * 1000,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}
