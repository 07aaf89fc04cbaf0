/**
 * The header in which a trusted service-binding caller of WorkflowService's `fetch` names
 * its client, who then gets a create budget of their own. The Pages app sets it to the
 * identity it verified (the Cloudflare Access user, or the address in local dev) after
 * removing whatever the browser sent, so a browser cannot pick its own bucket. The Worker's
 * public API never reads it: there, anyone could send it.
 */
export const SERVICE_CLIENT_HEADER = "x-workflows-client";
