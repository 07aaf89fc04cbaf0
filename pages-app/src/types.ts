/**
 * The Pages project's bindings: the generated `PagesEnv` (wrangler.jsonc), plus
 * `LOCAL_DEV_KEY`, which only `npm run dev` and the local test stacks pass
 * (`wrangler pages dev --binding LOCAL_DEV_KEY=<key>`, see ./local-dev.ts). It is declared
 * nowhere in wrangler.jsonc, so a deploy never carries it.
 */
export type PagesBindings = PagesEnv & { LOCAL_DEV_KEY?: string };

/** The Hono environment of the Pages routes. */
export type PagesAppEnv = { Bindings: PagesBindings };

/**
 * A setting the generated types call `string` but that may be unset: every setting is
 * a secret, and a project deployed without one has none.
 */
export const setting = (env: PagesBindings, name: "API_TOKEN" | "WORKER_URL" | "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD") =>
  (env[name] as string | undefined)?.trim() || undefined;
