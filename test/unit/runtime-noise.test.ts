import { describe, expect, it } from "vitest";
import { INJECTED_FAULT, isRuntimeNoise as noise } from "../runtime-noise";

// Messages as the runtime printed them during `npm test` (paths shortened).
const ENGINE = "file:///app/node_modules/miniflare/dist/src/workers/workflows/binding.worker.js";
const uncaught = (error: string, ...frames: string[]) =>
  `${[`uncaught exception; source = Uncaught (in promise); stack = ${error}`, ...frames.map((f) => `    at ${f}`)].join("\n")}\n`;

describe("the runtime's own messages, kept out of the test output", () => {
  it.each([
    [
      "get() of an id never created",
      uncaught("Error: Engine was never started", `Engine.getStatus (${ENGINE}:3967:15)`),
    ],
    [
      "...which the binding answers with",
      uncaught("Error: instance.not_found", `WorkflowBinding.get (${ENGINE}:4778:13)`),
    ],
    [
      "a duplicate id",
      uncaught(
        'WorkflowError: (instance.already_exists) Workflow instance with id "dup-1" already exists',
        `createWorkflowError (${ENGINE}:1383:10)`,
        `WorkflowBinding.create (${ENGINE}:4724:13)`,
      ),
    ],
    [
      "a waitForEvent timeout",
      uncaught("WorkflowTimeoutError: Execution timed out after 2000ms", `Context.waitForEvent (${ENGINE}:2836:315)`),
    ],
    [
      "a step that fails on purpose, as the step runs",
      uncaught(
        "NonRetryableError: create shipment failed permanently (simulated)",
        "failIfSimulated (/app/src/workflows/my-workflow.ts:298:9)",
        "AsyncFunction.<anonymous> (/app/src/workflows/my-workflow.ts:198:4)",
      ),
    ],
    [
      "...and as it goes back to the engine",
      uncaught(
        "Error: NonRetryableError: create shipment failed permanently (simulated)",
        `async doWrapper (${ENGINE}:2484:23)`,
        `async Context.do (${ENGINE}:2752:17)`,
        "async MyWorkflow.run (/app/src/workflows/my-workflow.ts:197:22)",
      ),
    ],
    [
      "a run that fails",
      uncaught(
        "Error: NonRetryableError: card declined",
        "async MyWorkflow.run (/app/src/workflows/my-workflow.ts:180:21)",
      ),
    ],
    [
      "a pause reaching a run",
      uncaught(
        "Error: Aborting engine: User called pause",
        "async MyWorkflow.run (/app/src/workflows/my-workflow.ts:142:3)",
      ),
    ],
    [
      "the engine aborting its Durable Object",
      "uncaught exception; exception = workerd/api/actor-state.c++:1249: failed: broken.outputGateBroken; jsg.Error: Aborting engine: User called terminate\nstack: /app/node_modules/@cloudflare/workerd-linux-64/bin/workerd@3cf53e4\n",
    ],
    [
      "a fault a test injected",
      uncaught(
        `Error: index storage refused (${INJECTED_FAULT}): SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_TRIGGER)`,
        "InstanceIndex.record (/app/src/instances/instance-index.ts:65:30)",
      ),
    ],
    [
      "what our code logs about a fault a test injected",
      `pages: Cloudflare Access keys unavailable at https://${INJECTED_FAULT}.cloudflareaccess.com: the team's signing keys could not be fetched\n`,
    ],
    [
      "the warning about the flag the local engine needs",
      "service core:user:workflows-starter: The compatibility flag workflows_preserve_non_retryable_error_message became the default as of 2026-05-14 so does not need to be specified anymore.\n",
    ],
  ])("%s", (_, message) => {
    expect(noise(message)).toBe(true);
  });
});

describe("errors of ours, which still show", () => {
  it.each([
    [
      "an exception in the Worker's own code",
      uncaught(
        "TypeError: Cannot read properties of undefined (reading 'id')",
        "createInstance (/app/src/instances/instances.ts:160:3)",
        "async /app/src/api/workflows.ts:25:120",
      ),
    ],
    [
      "a Durable Object's failure no test injected",
      uncaught(
        "Error: index storage refused: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_TRIGGER)",
        "InstanceIndex.record (/app/src/instances/instance-index.ts:65:30)",
      ),
    ],
    [
      "a rejected waitUntil, which no caller receives",
      uncaught("Error: retention sweep failed", "InstanceIndex.alarm (/app/src/instances/instance-index.ts:200:5)"),
    ],
    [
      "...and its second report",
      "uncaught exception; exception = workerd/jsg/value.h:1535: failed: jsg.Error: retention sweep failed\n",
    ],
    [
      "a request body read after the response",
      "uncaught exception; exception = workerd/api/global-scope.c++:55: failed: jsg.TypeError: Can't read from request stream after response has been sent.\nstack: /app/node_modules/@cloudflare/workerd-linux-64/bin/workerd@3c3a49b\n",
    ],
    [
      "an exception in a workflow's helper that the API called",
      uncaught(
        "TypeError: Cannot read properties of undefined (reading 'name')",
        "bindingOf (/app/src/workflows/registry.ts:20:5)",
        "createInstance (/app/src/instances/instances.ts:160:3)",
        "async /app/src/api/workflows.ts:25:120",
      ),
    ],
    [
      "a stack cut short whose last kept frame is a workflow's",
      uncaught(
        "TypeError: x is not a function",
        ...Array.from({ length: 9 }, (_, i) => `f${i} (/app/src/api/app.ts:${i}:1)`),
        "indexOf (/app/src/workflows/records.ts:17:3)",
      ),
    ],
    [
      "a warning about another compatibility flag",
      "service core:user:workflows-starter: The compatibility flag nodejs_compat_v2 became the default as of 2024-09-23 so does not need to be specified anymore.\n",
    ],
    ["a line the Worker logs", "could not record 1 instance(s) of my-workflow in the index Error: write refused\n"],
  ])("%s", (_, message) => {
    expect(noise(message)).toBe(false);
  });
});
