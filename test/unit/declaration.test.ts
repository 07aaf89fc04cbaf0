import { describe, expect, it } from "vitest";
import { z } from "zod";
import { declarationProblem, declareWorkflow, findWorkflow } from "../../src/workflows/declaration";
// Loads every workflow module, as the Worker does, so each has declared itself.
import { WORKFLOWS } from "../../src/workflows/registry";

const base = {
  binding: "MY_WORKFLOW",
  description: "a test declaration",
  params: z.strictObject({ n: z.number() }),
  example: { n: 1 },
} as const;

describe("declareWorkflow", () => {
  // Declared workflows stay known to every test file of this runtime, which the registry test
  // holds to the Worker's exports: these check the rules without declaring anything.
  it("accepts an event payload schema of any zod object shape", () => {
    const events = {
      strict: z.strictObject({ a: z.string() }),
      stripping: z.object({ a: z.string().optional() }),
      loose: z.looseObject({}),
    };
    expect(declarationProblem({ ...base, name: "with-events", events })).toBeUndefined();
  });

  it("makes a declared workflow findable by name", () => {
    for (const workflow of WORKFLOWS) expect(findWorkflow(workflow.name)?.binding).toBe(workflow.binding);
    expect(findWorkflow("no-such-workflow")).toBeUndefined();
  });

  it.each([
    [
      "a payload schema that is not a zod object",
      { name: "bad-schema", events: { approval: z.string() } },
      'workflow bad-schema: the payload schema of event "approval" must be a zod object (z.object, z.strictObject or z.looseObject)',
    ],
    [
      "an event type the platform refuses",
      { name: "bad-type", events: { "no spaces": z.object({}) } },
      "workflow bad-type: event type \"no spaces\" must be letters, digits, '-' and '_'",
    ],
    ["a name taken by another workflow", { name: "my-workflow" }, "workflow my-workflow: two workflows have this name"],
  ])("refuses %s, naming the rule", (_, declaration, message) => {
    expect(() => declareWorkflow({ ...base, ...(declaration as { name: string }) })).toThrow(message);
  });
});
