/**
 * What the local runtime prints during a green `npm test` that says nothing about this
 * project's code. vitest.config.ts keeps exactly these messages out of the output; every
 * other line of the runtime's (an error of ours included) still shows. The rules, and
 * why each one is the runtime's own:
 *
 * - workerd, which @cloudflare/vitest-plugin runs verbose, logs every exception that a
 *   Workers RPC call returns to its caller as an "uncaught exception", on the callee's
 *   side, even when the caller handles it. The local Workflows engine is made of such
 *   calls: `get()` of an id that does not exist ("Engine was never started", then
 *   "instance.not_found", which the API answers with a 404), a duplicate id, a restart
 *   from a step that never ran, and every step and run that fails on purpose (a retry, a
 *   `NonRetryableError`, a `waitForEvent` timeout) as it goes back to the engine, which
 *   records it as the step's or the instance's error: a failure that is our code's stays
 *   visible there (the instance is `errored`, its history holds the attempt).
 * - On pause, terminate, restart and delete, and when a step throws a `NonRetryableError`,
 *   the engine aborts the run it drives ("Aborting engine: User called pause") and its own
 *   Durable Object ("broken.outputGateBroken"), which workerd reports as well.
 * - wrangler.jsonc names `workflows_preserve_non_retryable_error_message` although its
 *   compatibility date makes it the default: the local engine runs at a date of its own
 *   (2024-10-22) and takes only the Worker's flags, so without it a `NonRetryableError`'s
 *   message is lost locally. workerd warns about the flag once per runtime.
 * - Faults the tests inject on purpose (storage that refuses a write, an Access team
 *   whose keys cannot be fetched) carry `INJECTED_FAULT` in their message, and so does
 *   what our code logs about them; the test asserts what our code does about them.
 *
 * test/unit/runtime-noise.test.ts holds each rule to the messages it is for, and checks
 * that errors of ours pass.
 */

/**
 * Part of every fault a test injects (in an error's message, in a host name), so the
 * runtime's report of it, or a line our code logs about it, is known for one.
 */
export const INJECTED_FAULT = "fault-injected-by-a-test";

/** The local Workflows engine's module (miniflare's), as it appears in a stack frame. */
const ENGINE_MODULE = "/miniflare/dist/src/workers/workflows/";

/** Where the workflows' own code lives: the steps and runs the engine calls. */
const WORKFLOW_CODE = "/src/workflows/";

/** The engine's abort reasons all start so ("Aborting engine: User called pause"). */
const ENGINE_ABORT = "Aborting engine: ";

/** V8 keeps this many frames of a stack: a stack this long may have lost its outer frames. */
const STACK_FRAMES_KEPT = 10;

const REDUNDANT_FLAG_WARNING =
  /^service [^\n]*: The compatibility flag workflows_preserve_non_retryable_error_message became the default as of [0-9-]+ so does not need to be specified anymore\.\s*$/;

/** Whether `message` (one message of the runtime, as the test runner prints it, stack included) is one of the above. */
export function isRuntimeNoise(message: string): boolean {
  if (REDUNDANT_FLAG_WARNING.test(message)) return true;
  const [report = "", ...frames] = message.trimEnd().split("\n");
  if (report.includes(INJECTED_FAULT)) return true;
  if (!message.startsWith("uncaught exception; ")) return false;
  if (report.includes(ENGINE_ABORT)) return true;
  // Raised by the engine, or passing through the step runner on its way back to it.
  if (frames.some((frame) => frame.includes(ENGINE_MODULE))) return true;
  // Thrown by a step or a run: the outermost frame is a workflow's own code, which only
  // the engine calls (unless the stack was cut short and the real outermost frame is lost).
  const outermost = frames.at(-1);
  return frames.length < STACK_FRAMES_KEPT && outermost !== undefined && outermost.includes(WORKFLOW_CODE);
}
