import type { Caller } from "./caller";
import { refusal } from "./refusals";

/**
 * Who reaches which Agent through this app. The Worker addresses an Agent by name
 * (`/agents/workflow-scheduler/<name>`) and trusts its service-binding callers, so the rule
 * lives here: every caller has Agents of their own. The name a caller gives is prefixed with
 * their scope (24 hex digits of the SHA-256 of the id this app verified), so
 * `/worker/agents/workflow-scheduler/team-a` reaches `<scope>-team-a`: the same Agent every
 * time for that caller, and one no other caller can name. A caller's names are at most 39
 * characters, so the whole name stays within the Worker's 64.
 *
 * The Worker's router decodes percent-escapes before it matches a path, so the rule looks at
 * the path the same way (escapes decoded, repeated slashes as one, any letter case): a path
 * that could reach the Agent's routes is either exactly of their form, and scoped, or refused.
 */
const AGENT_ROUTES = "/agents/workflow-scheduler";
const SCOPE_DIGITS = 24;
const NAME_MAX = 64 - SCOPE_DIGITS - 1;
const AGENT_PATH = new RegExp(`^${AGENT_ROUTES}/([A-Za-z0-9_-]+)((?:/[A-Za-z0-9_-]+)*)$`);

/** Percent-escapes decoded as Hono's router decodes them (valid runs only). */
const decoded = (path: string) =>
  path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });

async function scopeOf(caller: Caller): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(caller.id));
  return [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, SCOPE_DIGITS);
}

/** `pathname` (under /worker, without it) for the Worker: the caller's own Agent, or a refusal. */
export async function callersAgentPath(pathname: string, caller: Caller): Promise<string | Response> {
  if (!decoded(pathname).replace(/\/+/g, "/").toLowerCase().startsWith("/agents")) return pathname;
  const match = AGENT_PATH.exec(pathname);
  if (!match) return refusal(404, 40400, `no route for ${pathname.slice(0, 200)}`);
  const [, name = "", rest = ""] = match;
  if (name.length > NAME_MAX) {
    return refusal(400, 40000, `agent: must be 1 to ${NAME_MAX} letters, digits, '-' or '_' through this app`);
  }
  return `${AGENT_ROUTES}/${await scopeOf(caller)}-${name}${rest}`;
}
