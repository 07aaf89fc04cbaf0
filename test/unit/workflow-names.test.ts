import { describe, expect, it } from "vitest";
import { WORKFLOW_NAMES } from "../../src/workflows/names";
import { WORKFLOWS } from "../../src/workflows/registry";

describe("WORKFLOW_NAMES", () => {
  it("lists exactly the registered workflows", () => {
    expect([...WORKFLOW_NAMES].sort()).toEqual(WORKFLOWS.map((w) => w.name).sort());
  });
});
