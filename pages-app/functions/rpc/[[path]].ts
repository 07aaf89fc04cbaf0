import { handle } from "hono/cloudflare-pages";
import { rpcRoutes } from "../../src/rpc-routes";

/** /rpc/workflows/...: the Worker's operations over the WORKFLOW_SERVICE service binding. */
export const onRequest = handle(rpcRoutes);
