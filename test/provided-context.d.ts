import "vitest";

/** What vitest.config.ts hands the tests through `provide` (read with `inject`). */
declare module "vitest" {
  export interface ProvidedContext {
    /** The create rate limit as wrangler.jsonc configures it. */
    createRateLimit: { limit: number; period: number } | undefined;
    /** wrangler.jsonc's `alias` as wrangler reads it: import specifier -> stub file. */
    bundleAlias: Record<string, string>;
  }
}
