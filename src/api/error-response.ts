import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { failure } from "../shared/envelope";
import { ERROR_CODE, type ErrorKind, errorHeaders, InstanceError } from "../shared/errors";

/** An error as the v4 envelope, with the headers every error answer carries. */
export function errorResponse(c: Context, status: ContentfulStatusCode, code: number, message: string, field?: string) {
  return c.json(failure(code, message, field), status, errorHeaders(status));
}

export function kindResponse(c: Context, kind: ErrorKind, message: string) {
  const error = new InstanceError(kind, message);
  return errorResponse(c, error.status as ContentfulStatusCode, ERROR_CODE[kind], message);
}
