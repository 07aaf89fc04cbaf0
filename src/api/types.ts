import type { RequestIdVariables } from "hono/request-id";

/** The Hono environment of every sub-app: Worker bindings plus per-request values. */
export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables;
};
