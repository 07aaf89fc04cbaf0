import "vitest";

/** What vitest.config.ts hands the tests through `provide` (read with `inject`). */
declare module "vitest" {
  export interface ProvidedContext {
    /** The create rate limit as wrangler.jsonc configures it. */
    createRateLimit: { limit: number; period: number } | undefined;
    /** wrangler.jsonc's `alias` as wrangler reads it: import specifier -> stub file. */
    bundleAlias: Record<string, string>;
    /** wrangler.jsonc's `workflows`, as wrangler reads them. */
    wranglerWorkflows: { name: string; binding: string; class_name: string }[];
  }
}
