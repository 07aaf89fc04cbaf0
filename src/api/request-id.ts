import { requestId as honoRequestId } from "hono/request-id";

/**
 * Every request's id, for its answer's `X-Request-Id` and the lines it logs: always a UUID
 * made here. Hono's middleware would take a request's own `X-Request-Id` when it looks like
 * one (letters, digits, `-`, `_`, `=`); a client could then choose what lands in the logs, or
 * give the id of another request. A length limit of 0 makes it refuse every id a request brings.
 */
export const requestId = () => honoRequestId({ limitLength: 0 });
