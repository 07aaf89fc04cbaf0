/**
 * The errors every front of the Worker (HTTP, RPC, ...) reports, and the Pages app the same
 * way. Each carries the HTTP status it maps to and a stable numeric code for the v4
 * envelope's `errors[].code`.
 */
export type ErrorKind = "invalid_input" | "unauthorized" | "not_found" | "conflict" | "too_large" | "rate_limited";

export const ERROR_STATUS = {
  invalid_input: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
} as const satisfies Record<ErrorKind, number>;

/** Envelope codes: the HTTP status times 100, plus a detail digit where useful. */
export const ERROR_CODE = {
  invalid_input: 40000,
  unauthorized: 40100,
  not_found: 40400,
  conflict: 40900,
  too_large: 41300,
  rate_limited: 42900,
} as const satisfies Record<ErrorKind, number>;

/**
 * Headers every front adds to an error answer. Clients such as the `cloudflare` SDK retry a
 * 409 unless told not to; ours are final (the id exists, or the state forbids the action).
 */
export const errorHeaders = (status: number): Record<string, string> =>
  status === 409 ? { "x-should-retry": "false" } : {};

export class InstanceError extends Error {
  override readonly name = "InstanceError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** The input field at fault, for invalid input: `params.items.0.quantity`. */
    readonly field?: string,
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.kind];
  }
  get code(): number {
    return ERROR_CODE[this.kind];
  }
}

export const invalid = (field: string, why: string) => new InstanceError("invalid_input", `${field}: ${why}`, field);
export const notFound = (what: string) => new InstanceError("not_found", `${what} not found`);
export const conflict = (why: string) => new InstanceError("conflict", why);
