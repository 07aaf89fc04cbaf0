import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_CODE, type ErrorKind, errorHeaders, InstanceError } from "../instances/errors";
import type { ResultInfo } from "../instances/listing";

/** The Cloudflare v4 API envelope, so clients of the REST API read ours the same way. */
export interface Envelope<T> {
  success: boolean;
  errors: { code: number; message: string; field?: string }[];
  messages: { code: number; message: string }[];
  result: T | null;
  result_info?: ResultInfo;
}

export const ok = <T>(result: T): Envelope<T> => ({ success: true, errors: [], messages: [], result });

/** A page of a list, with the REST API's `result_info` beside `result`. */
export const okPage = <T>(result: T[], result_info: ResultInfo): Envelope<T[]> => ({ ...ok(result), result_info });

export const failure = (code: number, message: string, field?: string): Envelope<null> => ({
  success: false,
  errors: [{ code, message, ...(field ? { field } : {}) }],
  messages: [],
  result: null,
});

export function errorResponse(c: Context, status: ContentfulStatusCode, code: number, message: string, field?: string) {
  return c.json(failure(code, message, field), status, errorHeaders(status));
}

export function kindResponse(c: Context, kind: ErrorKind, message: string) {
  const error = new InstanceError(kind, message);
  return errorResponse(c, error.status as ContentfulStatusCode, ERROR_CODE[kind], message);
}
