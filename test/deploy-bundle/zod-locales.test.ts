import { describe, expect, inject, it } from "vitest";

/**
 * What the deploy bundle (dist/worker, as `wrangler deploy --dry-run` builds it, before this
 * suite runs: test/build-under-test.mjs) carries. It reads a file, so it runs in Node, in a
 * project of its own (vitest.config.ts) that the runs of the Worker's files alone skip.
 */
const alias = inject("bundleAlias");

describe.runIf("zod" in alias)("zod without its locales", () => {
  it("the deploy bundle carries zod's English messages and no other locale's", async () => {
    const bundle = (await import("../../dist/worker/index.js?raw")).default;
    // Every locale zod's locale index exports, as written (relative paths: no alias applies).
    const dir = "../../node_modules/zod/v4/locales";
    const index = (await import("../../node_modules/zod/v4/locales/index.js?raw")).default;
    const files = [...new Set([...index.matchAll(/from "\.\/([\w-]+\.js)"/g)].map((m) => m[1]!))];
    const source = async (file: string) => (await import(/* @vite-ignore */ `${dir}/${file}?raw`)).default as string;
    // Each locale's name for an ISO date-time, where it is plain ASCII (esbuild escapes the
    // rest in its output, so only those can be searched for as they are written).
    const marker = (text: string) => /datetime:\s*"([\x20-\x7e]+?)"/.exec(text)?.[1];
    const english = marker(await source("en.js"));
    expect(english).toBe("ISO datetime");
    expect(bundle).toContain(`"${english}"`);
    const others: [file: string, marker: string][] = [];
    for (const file of files) {
      const m = marker(await source(file));
      if (m !== undefined && m !== english) others.push([file, m]);
    }
    // Enough of them that the search means something (22 with zod 4.6).
    expect(others.length).toBeGreaterThanOrEqual(10);
    const shipped = others.filter(([, m]) => bundle.includes(`"${m}"`));
    expect(shipped, "locales in dist/worker/index.js").toEqual([]);
  });
});
