import { NonRetryableError } from "cloudflare:workflows";
import type { z } from "zod";

/**
 * Validates a workflow's params inside its first step. Invalid input can never succeed
 * on retry, so it throws NonRetryableError, which fails the instance at once. Keep the
 * error's default name: the runtime recognises it by `name === "NonRetryableError"`.
 */
export function validateParams<T extends z.ZodType>(schema: T, params: unknown): z.output<T> {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new NonRetryableError(`invalid params: ${issue?.path.join(".") || "params"}: ${issue?.message ?? "invalid"}`);
}
