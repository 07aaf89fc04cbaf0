import type { Envelope } from "./envelope";
import { type ErrorKind, errorHeaders } from "./errors";

/**
 * How WorkflowService reports outcomes across a service binding.
 *
 * Workers RPC serializes a thrown Error down to its message (and name for built-in
 * errors): the kind, status, code and field of an InstanceError would be lost on the
 * way. So every typed method resolves to a plain result union instead of throwing,
 * and callers turn it back into a status with `unwrap` or `rpcResponse` below. Like all
 * of src/shared, it imports no Worker code, so a caller (the Pages app) can bundle it.
 */

/** Values that cross RPC as themselves: RPC return types that mention `unknown` collapse to `never`. */
export type JsonValue = string | number | boolean | null | JsonArray | JsonObject;
// Interfaces, not inline types: TypeScript expands them lazily, which keeps the RPC
// type mapping (Rpc.Result) of recursive JSON from hitting its instantiation depth limit.
export interface JsonObject {
  [key: string]: JsonValue;
}
export interface JsonArray extends Array<JsonValue> {}

/** `internal` marks a fault in the Worker itself (logged there), never a caller's mistake. */
export type RpcErrorKind = ErrorKind | "internal";

export interface RpcError {
  kind: RpcErrorKind;
  /** The HTTP status the same failure gets from the Worker's HTTP API. */
  status: number;
  /** The v4 envelope's `errors[].code`. */
  code: number;
  message: string;
  /** The input field at fault, for invalid input: `params.items.0.quantity`. */
  field?: string;
}

export type RpcResult<T> = { ok: true; result: T } | { ok: false; error: RpcError };

/** A failed RPC result as an exception, keeping what the HTTP side needs. */
export class RpcCallError extends Error {
  override readonly name = "RpcCallError";
  readonly kind: RpcErrorKind;
  readonly status: number;
  readonly code: number;
  readonly field?: string;
  constructor(error: RpcError) {
    super(error.message);
    this.kind = error.kind;
    this.status = error.status;
    this.code = error.code;
    if (error.field !== undefined) this.field = error.field;
  }
}

/** The result of a successful call; throws RpcCallError (with its status) for a failed one. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.result;
  throw new RpcCallError(result.error);
}

/** The same result as the Worker's HTTP API would give it: status plus v4 envelope. */
export function rpcEnvelope<T>(result: RpcResult<T>): Envelope<T> {
  if (result.ok) return { success: true, errors: [], messages: [], result: result.result };
  const { code, message, field } = result.error;
  return { success: false, errors: [{ code, message, ...(field ? { field } : {}) }], messages: [], result: null };
}

export function rpcStatus(result: RpcResult<unknown>, successStatus = 200): number {
  return result.ok ? successStatus : result.error.status;
}

export function rpcResponse<T>(result: RpcResult<T>, successStatus = 200): Response {
  const status = rpcStatus(result, successStatus);
  return Response.json(rpcEnvelope(result), { status, headers: errorHeaders(status) });
}
