import { expect } from "vitest";

/** Asserts `body` is a Cloudflare v4 envelope consistent with `status`. */
export function expectEnvelope(status: number, body: unknown): void {
  expect(body, "a JSON object").toBeTypeOf("object");
  expect(body).not.toBeNull();
  const envelope = body as Record<string, unknown>;
  // `result_info` (pagination) is the one optional member of the v4 envelope.
  expect(
    Object.keys(envelope)
      .filter((k) => k !== "result_info")
      .sort(),
  ).toEqual(["errors", "messages", "result", "success"]);
  expect(envelope.success).toBe(status < 400);
  expect(Array.isArray(envelope.errors)).toBe(true);
  expect(Array.isArray(envelope.messages)).toBe(true);
  const errors = envelope.errors as Record<string, unknown>[];
  if (status >= 400) {
    expect(errors.length).toBeGreaterThan(0);
    expect(envelope.result).toBeNull();
  } else {
    expect(errors).toEqual([]);
  }
  for (const error of errors) {
    expect(error.code).toBeTypeOf("number");
    expect(error.message).toBeTypeOf("string");
    expect((error.message as string).length).toBeGreaterThan(0);
    // No stack traces or internals in what clients see.
    expect(error.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
  }
}
