/** The Hono environment of the Pages routes: the Pages project's bindings (generated PagesEnv). */
export type PagesAppEnv = { Bindings: PagesEnv };
