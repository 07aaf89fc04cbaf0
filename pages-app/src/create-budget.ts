import type { Context, MiddlewareHandler } from "hono";
import type { Caller } from "./caller";
import { refusal } from "./refusals";
import type { PagesAppEnv, PagesBindings } from "./types";

/** The seconds the Worker tells a limited client to wait (its RETRY_AFTER_SECONDS, src/api/rate-limit.ts). */
const RETRY_AFTER_SECONDS = "60";

/**
 * Spends one create of the caller's budget, the Worker's create rate limit for the client
 * this app verified (the same budget its /http and /worker creates spend, which the Worker
 * keys on the `x-workflows-client` this app sets): before a create over RPC, which the
 * Worker does not limit. The refusal to answer instead, or undefined.
 */
export async function spendCreateBudget(env: PagesBindings, caller: Caller): Promise<Response | undefined> {
  const spent = await env.WORKFLOW_SERVICE.spendCreateBudget(caller.id);
  if (spent.ok) return undefined;
  const { status, code, message } = spent.error;
  return refusal(status, code, message, status === 429 ? { "retry-after": RETRY_AFTER_SECONDS } : {});
}

/** The caller app.ts verified, handed to the API routes with the request. */
export const callerOf = (c: Context<PagesAppEnv>): Caller => (c.executionCtx.props as { caller: Caller }).caller;

/** Mounted on the RPC create routes. */
export const createBudget = (): MiddlewareHandler<PagesAppEnv> => async (c, next) =>
  (await spendCreateBudget(c.env, callerOf(c))) ?? next();
