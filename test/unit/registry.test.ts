import { WorkflowEntrypoint } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import * as entry from "../../src/index";
import { declaredWorkflows } from "../../src/workflows/declaration";
import { WORKFLOWS } from "../../src/workflows/registry";

interface Declared {
  name: string;
  binding: string;
  class_name: string;
}

/**
 * What keeps a workflow from working, when the three places that name it disagree: the
 * registry (src/workflows/index.ts and each class's declaration), wrangler.jsonc's
 * `workflows`, and the Worker's exports (src/index.ts). One line each, naming what is missing.
 */
function mismatches(
  registry: readonly Declared[],
  wrangler: readonly Declared[],
  exported: Record<string, unknown>,
  declared: readonly string[],
): string[] {
  const problems: string[] = [];
  const isWorkflowClass = (value: unknown) =>
    typeof value === "function" && value.prototype instanceof WorkflowEntrypoint;
  for (const w of registry) {
    const declared = wrangler.find((d) => d.name === w.name);
    if (!declared) {
      problems.push(
        `${w.name}: registered (class ${w.class_name}), but wrangler.jsonc declares no workflow of that name`,
      );
    } else {
      if (declared.binding !== w.binding) {
        problems.push(`${w.name}: its declaration says binding ${w.binding}, wrangler.jsonc says ${declared.binding}`);
      }
      if (declared.class_name !== w.class_name) {
        problems.push(
          `${w.name}: src/workflows/index.ts exports it as ${w.class_name}, wrangler.jsonc names class ${declared.class_name}`,
        );
      }
    }
    if (!isWorkflowClass(exported[w.class_name])) {
      problems.push(`${w.name}: the Worker (src/index.ts) does not export its class ${w.class_name}`);
    }
  }
  for (const d of wrangler) {
    if (!registry.some((w) => w.name === d.name)) {
      problems.push(
        `${d.name}: declared in wrangler.jsonc (class ${d.class_name}), but src/workflows/index.ts exports no workflow of that name`,
      );
    }
    if (!isWorkflowClass(exported[d.class_name])) {
      problems.push(`${d.name}: wrangler.jsonc names class ${d.class_name}, which the Worker does not export`);
    }
  }
  for (const [exportName, value] of Object.entries(exported)) {
    if (isWorkflowClass(value) && !registry.some((w) => w.class_name === exportName)) {
      problems.push(`${exportName}: the Worker exports this workflow class, but the registry does not list it`);
    }
  }
  for (const name of declared) {
    if (!registry.some((w) => w.name === name)) {
      problems.push(`${name}: declared with declareWorkflow, but src/workflows/index.ts does not export its class`);
    }
  }
  return problems;
}

describe("the registry, wrangler.jsonc's workflows and the Worker's exports", () => {
  it("agree: every workflow is in all three, under the same name, binding and class name", () => {
    expect(WORKFLOWS.length).toBeGreaterThan(0);
    expect(
      mismatches(
        WORKFLOWS,
        inject("wranglerWorkflows"),
        { ...entry },
        declaredWorkflows().map((w) => w.name),
      ),
    ).toEqual([]);
  });

  // The check above must be able to fail: each way the three can disagree is named.
  const registry = [{ name: "a-flow", binding: "A_FLOW", class_name: "AFlow" }];
  class AFlow extends WorkflowEntrypoint {}
  class BFlow extends WorkflowEntrypoint {}

  it.each([
    [
      "a workflow missing from wrangler.jsonc",
      { wrangler: [], exported: { AFlow } },
      ["a-flow: registered (class AFlow), but wrangler.jsonc declares no workflow of that name"],
    ],
    [
      "a class the Worker does not export",
      { wrangler: registry, exported: {} },
      [
        "a-flow: the Worker (src/index.ts) does not export its class AFlow",
        "a-flow: wrangler.jsonc names class AFlow, which the Worker does not export",
      ],
    ],
    [
      "a wrangler.jsonc entry with another binding and class",
      { wrangler: [{ name: "a-flow", binding: "OTHER", class_name: "BFlow" }], exported: { AFlow, BFlow } },
      [
        "a-flow: its declaration says binding A_FLOW, wrangler.jsonc says OTHER",
        "a-flow: src/workflows/index.ts exports it as AFlow, wrangler.jsonc names class BFlow",
        "BFlow: the Worker exports this workflow class, but the registry does not list it",
      ],
    ],
    [
      "a wrangler.jsonc entry the registry lacks",
      {
        wrangler: [...registry, { name: "b-flow", binding: "B_FLOW", class_name: "BFlow" }],
        exported: { AFlow, BFlow },
      },
      [
        "b-flow: declared in wrangler.jsonc (class BFlow), but src/workflows/index.ts exports no workflow of that name",
        "BFlow: the Worker exports this workflow class, but the registry does not list it",
      ],
    ],
  ])("names %s", (_, { wrangler, exported }, expected) => {
    expect(mismatches(registry, wrangler, exported, ["a-flow"])).toEqual(expected);
  });

  it("names a declared workflow whose class src/workflows/index.ts does not export", () => {
    expect(mismatches(registry, registry, { AFlow }, ["a-flow", "c-flow"])).toEqual([
      "c-flow: declared with declareWorkflow, but src/workflows/index.ts does not export its class",
    ]);
  });
});
