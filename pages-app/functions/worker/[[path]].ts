/**
 * /worker/*: a pass-through to WorkflowService's `fetch` over the service binding,
 * with the `/worker` prefix removed (`/worker/api/workflows` -> `/api/workflows`).
 * Service-binding callers are trusted, so a browser using this app never needs the
 * Worker's API token: protect the Pages project itself (Cloudflare Access) instead.
 */
export const onRequest: PagesFunction<PagesEnv> = async ({ request, env }) => {
  const url = new URL(request.url);
  url.pathname = url.pathname.replace(/^\/worker(?=\/|$)/, "") || "/";
  return env.WORKFLOW_SERVICE.fetch(new Request(url, request));
};
