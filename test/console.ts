import { vi } from "vitest";

/**
 * What the code under test logs (console.log, .warn, .error) while this is held, kept out
 * of the test output for a test that makes the Worker log on purpose (an injected fault,
 * a refused message) and asserts on it instead: `using logs = captureConsole()`.
 */
export function captureConsole() {
  const lines: string[] = [];
  const spies = (["log", "warn", "error"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    }),
  );
  return {
    lines,
    [Symbol.dispose]() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
