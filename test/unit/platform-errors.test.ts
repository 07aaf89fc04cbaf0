import { describe, expect, it } from "vitest";
import { InstanceError } from "../../src/shared/errors";
import { isAlreadyExists, mapPlatformError } from "../../src/workflows/platform-errors";

/** What mapPlatformError makes of an Error with this message: its kind and field, or "unmapped". */
const kindOf = (message: string) => {
  const mapped = mapPlatformError(new Error(message), "my-workflow", "order-1");
  return mapped instanceof InstanceError ? { kind: mapped.kind, field: mapped.field } : "unmapped";
};

// The messages are the local engine's own (miniflare's workflows binding.worker.js and
// its engine), as they reach the Worker over RPC.
describe("mapPlatformError", () => {
  it("maps the platform's instance.* codes", () => {
    expect(kindOf("instance.not_found")).toEqual({ kind: "not_found", field: undefined });
    expect(kindOf("(instance.not_found) Workflow instance not found")).toMatchObject({ kind: "not_found" });
    expect(kindOf('(instance.already_exists) Workflow instance with id "order-1" already exists')).toMatchObject({
      kind: "conflict",
    });
    expect(kindOf("workflows.api.error.instance.already_exists")).toMatchObject({ kind: "conflict" });
    expect(kindOf("(instance.cannot_terminate) Cannot terminate instance since its on a finite state")).toMatchObject({
      kind: "conflict",
    });
    expect(kindOf("(instance.cannot_restart) Cannot restart now")).toMatchObject({ kind: "conflict" });
    expect(kindOf("(instance.invalid_id) Instance ID is invalid")).toEqual({
      kind: "invalid_input",
      field: "instance_id",
    });
    // The engine's single create says it without a code.
    expect(kindOf("Workflow instance has invalid id")).toEqual({ kind: "invalid_input", field: "instance_id" });
    expect(kindOf("WorkflowError: Workflow instance has invalid id")).toMatchObject({ kind: "invalid_input" });
  });

  it("keeps the restart-from case precise: a step not in the history is the caller's 400", () => {
    expect(kindOf('(instance.cannot_restart) Step "charge payment" not found in execution history')).toEqual({
      kind: "invalid_input",
      field: "from.name",
    });
  });

  it("leaves loose text alone: a message that merely says 'not found' is a real fault", () => {
    // The agents SDK says this when a binding is missing; it says nothing about an instance.
    expect(kindOf("Workflow binding 'OLD_WORKFLOW' not found in environment")).toBe("unmapped");
    expect(kindOf("user not found in the inventory system")).toBe("unmapped");
    expect(kindOf("the record already exists somewhere else")).toBe("unmapped");
    expect(kindOf("invalid identity token")).toBe("unmapped");
    expect(kindOf("Network connection lost.")).toBe("unmapped");
  });
});

describe("isAlreadyExists", () => {
  it("recognises a taken id in a create's error and in a batch create's `errors`", () => {
    expect(isAlreadyExists('(instance.already_exists) Workflow instance with id "order-1" already exists')).toBe(true);
    expect(isAlreadyExists("workflows.api.error.instance.already_exists")).toBe(true);
    expect(isAlreadyExists("workflows.api.error.instance.duplicate_in_batch")).toBe(false);
    expect(isAlreadyExists("the order already_exists in the ledger")).toBe(false);
  });
});
