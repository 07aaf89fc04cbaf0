import { handleRequest } from "../src/app";
import type { PagesBindings } from "../src/types";

/**
 * Every request to this Pages project passes here first (a root middleware makes the
 * generated _routes.json include `/*`, static files too): it is refused unless the
 * caller is verified, and the API prefixes (/rpc, /http, /worker) are answered here.
 * See src/app.ts.
 */
export const onRequest: PagesFunction<PagesBindings> = (context) => handleRequest(context);
