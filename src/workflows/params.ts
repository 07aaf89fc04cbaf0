import { NonRetryableError } from "cloudflare:workflows";
import type { z } from "zod";
import { splitOrigin } from "./run-origin";

/**
 * A run's params, validated: call it inside the run's first step. Invalid params can never
 * succeed on retry, so it throws a NonRetryableError (keep that name: the runtime recognises
 * it by `name`), which fails the instance at once. Keys an optional part added when it started
 * the run (./run-origin.ts) are taken off first.
 */
export function parseParams<T extends z.ZodType>(schema: T, payload: unknown): z.output<T> {
  const parsed = schema.safeParse(splitOrigin(payload).params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NonRetryableError(`invalid params: ${issue?.path.join(".") || "params"}: ${issue?.message ?? "invalid"}`);
}
