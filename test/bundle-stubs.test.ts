// The deploy bundle replaces modules the agents SDK imports for features this Worker does
// not use with the stubs in bundle-stubs/ (checked by test/agents/bundle-stubs.test.ts), and
// zod with all of zod but its locales (wrangler.jsonc "alias", mirrored into Vite's
// resolve.alias by vitest.config.ts so these tests run what ships).
import { describe, expect, inject, it } from "vitest";
import * as zod from "zod";
// zod's own namespace (its `z`), every locale included: "zod/v4" is no alias key.
import zodItself from "zod/v4";

const alias = inject("bundleAlias");

/** `pkg`, `pkg/sub/path`, `@scope/pkg/...` -> the package name and the subpath ("." for none). */
function packageSpecifier(specifier: string): { name: string; subpath: string } | null {
  const match = /^((?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*)(\/[^/].*)?$/.exec(specifier);
  return match ? { name: match[1]!, subpath: match[2] ? `.${match[2]}` : "." } : null;
}

/** Whether a package's `exports` map lets its consumers import `subpath` (a key or a `*` pattern). */
function exportsSubpath(exportsField: unknown, subpath: string): boolean {
  if (subpath === ".") return true;
  if (typeof exportsField !== "object" || exportsField === null) return false;
  return Object.keys(exportsField).some((key) => {
    const star = key.indexOf("*");
    if (star === -1) return key === subpath;
    return (
      subpath.length >= key.length - 1 &&
      subpath.startsWith(key.slice(0, star)) &&
      subpath.endsWith(key.slice(star + 1))
    );
  });
}

describe("wrangler.jsonc's alias", () => {
  // Wrangler replaces every import whose specifier equals a key, in every package and in
  // src/. A package name (or a subpath its exports map offers) is only ever imported by
  // that package's consumers; a relative or absolute path could be anyone's file.
  it("keys only installed packages or subpaths they export", async () => {
    expect(Object.keys(alias).length).toBeGreaterThan(0);
    const lock = JSON.parse((await import("../package-lock.json?raw")).default) as {
      packages: Record<string, unknown>;
    };
    for (const key of Object.keys(alias)) {
      const spec = packageSpecifier(key);
      expect(spec, `alias key ${JSON.stringify(key)} is not a package name or package subpath`).not.toBeNull();
      const { name, subpath } = spec!;
      expect(lock.packages[`node_modules/${name}`], `alias key ${key}: ${name} is not installed`).toBeDefined();
      const manifestPath = `../node_modules/${name}/package.json?raw`;
      const manifest = JSON.parse((await import(/* @vite-ignore */ manifestPath)).default) as { exports?: unknown };
      expect(exportsSubpath(manifest.exports, subpath), `alias key ${key}: ${name} exports no ${subpath}`).toBe(true);
    }
  });

  it("points into bundle-stubs/, and bundle-stubs/README.md names every key", async () => {
    const readme = (await import("../bundle-stubs/README.md?raw")).default;
    for (const [key, stub] of Object.entries(alias)) {
      expect(stub).toMatch(/^\.\/bundle-stubs\/[\w.-]+\.js$/);
      expect(readme, `bundle-stubs/README.md does not mention ${key}`).toContain(`\`${key}\``);
    }
  });
});

describe.runIf("zod" in alias)("zod without its locales", () => {
  it('`import { z } from "zod"` still gets all of zod, with English messages', () => {
    const { z } = zod;
    expect(zod.default).toBe(z);
    // Every name of zod's own `z`, each the same value, but for the two namespaces that
    // carry the locales (`z.core.locales` is `z.locales`).
    const replaced = ["core", "locales"];
    const names = (ns: object) => Object.keys(ns).sort();
    // The stand-in's `z` also lists a `z` member, undefined (zod's has none: reading it gives
    // undefined too); it shadows the one "zod/v4" exports, which holds every locale.
    expect((z as Record<string, unknown>).z).toBeUndefined();
    expect(names(z).filter((k) => k !== "z")).toEqual(names(zodItself));
    for (const key of Object.keys(zodItself).filter((k) => !replaced.includes(k))) {
      expect(z[key as keyof typeof z], `z.${key}`).toBe(zodItself[key as keyof typeof zodItself]);
    }
    expect(names(z.core)).toEqual(names(zodItself.core));
    for (const key of Object.keys(zodItself.core).filter((k) => k !== "locales")) {
      expect(z.core[key as keyof typeof z.core], `z.core.${key}`).toBe(zodItself.core[key as keyof typeof z.core]);
    }
    expect(Object.keys(z.locales)).toEqual(["en"]);
    expect(z.core.locales).toBe(z.locales);
    expect(z.locales.en).toBe(zodItself.locales.en);

    z.config(z.locales.en());
    const schema = z.object({ name: z.string().min(2), tags: z.array(z.string()) }).strict();
    const result = schema.safeParse({ name: "a", tags: ["x", 1], extra: true });
    expect(result.success).toBe(false);
    expect(z.prettifyError(result.error!)).toBe(
      [
        '✖ Unrecognized key: "extra"',
        "✖ Too small: expected string to have >=2 characters\n  → at name",
        "✖ Invalid input: expected string, received number\n  → at tags[1]",
      ].join("\n"),
    );
    expect(
      z.fromJSONSchema({ type: "object", properties: { n: { type: "number" } } }).safeParse({ n: 1 }).success,
    ).toBe(true);
  });

  it("no package in the bundle brings a zod of its own (the alias would hand it this one)", async () => {
    const lock = JSON.parse((await import("../package-lock.json?raw")).default) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const nested = Object.entries(lock.packages)
      .filter(([path, entry]) => path.endsWith("/node_modules/zod") && path !== "node_modules/zod" && !entry.dev)
      .map(([path]) => path);
    expect(nested).toEqual([]);
  });
});
