import type { ErrorHandler, NotFoundHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { failure } from "../../src/shared/envelope";
import { InstanceError } from "../../src/shared/errors";
import type { PagesAppEnv } from "./types";

/**
 * Every error answer of the Pages app, in the Worker's v4 envelope so callers read both
 * alike: its own refusals before any route runs (this function), and the errors and
 * unknown paths of its API routes (`onError`, `onNotFound`).
 */
export function refusal(status: number, code: number, message: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(failure(code, message)), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** The Worker could not be reached over HTTP (down, wrong WORKER_URL): a gateway error, not ours. */
export class WorkerUnreachable extends Error {
  override readonly name = "WorkerUnreachable";
}

/** Errors of the API routes. */
export const onError: ErrorHandler<PagesAppEnv> = (error, c) => {
  if (error instanceof InstanceError) {
    return c.json(failure(error.code, error.message, error.field), error.status as ContentfulStatusCode);
  }
  if (error instanceof WorkerUnreachable) return c.json(failure(50200, error.message), 502);
  // These routes only move data to and from the Worker, and WorkflowService answers
  // every call with a result union rather than throwing: an error here is the
  // service binding itself failing (the Worker not deployed, not running locally,
  // or reloading), so it is a bad gateway, not a fault of this function.
  console.error("pages: call to the workflows Worker failed", error);
  const why = error instanceof Error ? error.message : String(error);
  return c.json(failure(50200, `the workflows Worker could not be reached: ${why}`), 502);
};

export const onNotFound: NotFoundHandler<PagesAppEnv> = (c) =>
  c.json(failure(40400, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404);
