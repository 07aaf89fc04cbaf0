import { handle } from "hono/cloudflare-pages";
import { httpRoutes } from "../../src/http-routes";

/** /http/workflows/...: the Worker's operations over fetch to WORKER_URL with the bearer token. */
export const onRequest = handle(httpRoutes);
