import "vitest";
import type { JWK } from "jose";

/** What pages-app/vitest.config.ts hands the tests through `provide` (read with `inject`). */
declare module "vitest" {
  export interface ProvidedContext {
    /** The create rate limit as wrangler.jsonc configures it. */
    createRateLimit: { limit: number; period: number } | undefined;
    /** The names of the Worker's workflows, as ../wrangler.jsonc declares them. */
    workflowNames: string[];
    /** The LOCAL_DEV_KEY of the deployment that runs as `npm run dev` does. */
    localDevKey: string;
    /** The Cloudflare Access team the Functions under test trust, and its signing key. */
    access: {
      teamDomain: string;
      /** Teams whose keys arrive after a moment (first asked for by one test), and never. */
      coldTeamDomain: string;
      unreachableTeamDomain: string;
      audience: string;
      keyId: string;
      privateJwk: JWK;
    };
  }
}
