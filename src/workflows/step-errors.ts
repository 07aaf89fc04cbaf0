/**
 * What a step call throws into `run` that a workflow may need to tell apart. The platform
 * gives no typed signal for these: the errors cross into `run` over RPC as plain Errors, so
 * they are recognised by the runtime's message, here only, each message pinned by a test
 * (test/unit/step-errors.test.ts).
 */

/**
 * Whether `error` is what `step.waitForEvent` throws when its timeout passes: a
 * WorkflowTimeoutError "Execution timed out after <ms>ms". It arrives as a plain Error whose
 * message starts with "WorkflowTimeoutError: " on the wait itself, and without it when a later
 * replay (a restart from a later step) rethrows the stored error. The name is checked too, in
 * case a runtime keeps it.
 */
export function isWaitTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "WorkflowTimeoutError" ||
      /^(?:WorkflowTimeoutError: )?Execution timed out after \d+ ?ms\b/.test(error.message))
  );
}

/**
 * Whether `error` is the engine interrupting `run` (pause, terminate, restart, delete):
 * "Aborting engine: User called pause". A `catch` in `run` must rethrow it untouched and run
 * no step: the engine must see its own abort, or it records a failure (and rolls back)
 * instead of pausing.
 */
export function isEngineAbort(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("Aborting engine:");
}

/** An error's message, without the class name a NonRetryableError gains on its way over RPC. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^NonRetryableError: /, "") : String(error);
}
