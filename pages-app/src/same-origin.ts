import { refusal } from "./refusals";

/** Methods that never change state here; any other method is a state change. */
export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const isJson = (contentType: string | null) => contentType?.split(";")[0]?.trim().toLowerCase() === "application/json";

/**
 * The rule for a state change (any method but GET, HEAD and OPTIONS), so no other site
 * can drive one from a user's browser (where the Access cookie makes it authenticated):
 *
 * 1. `Content-Type: application/json`. A page on another site can send a cross-origin
 *    request without asking first only with a form's content types (and GET, HEAD or
 *    POST); JSON makes the browser ask first (a CORS preflight), and this app grants
 *    no CORS, so the request is never sent.
 * 2. The same origin. If `Origin` is present it must equal this request's origin;
 *    otherwise, if `Sec-Fetch-Site` is present it must be `same-origin` or `none` (the
 *    user's own action, such as a bookmark). Browsers send `Origin` on every request
 *    but GET and HEAD, and `Sec-Fetch-Site` on every request, so a browser's
 *    cross-site request always carries one of them, and is refused.
 *    A request with neither header did not come from a browser (curl, a script, a
 *    server holding an Access service token): no user's credentials can be borrowed
 *    that way, so it passes, with its own credentials checked as usual.
 *
 * WebSocket upgrades (GET) follow rule 2: a browser sends `Origin` on them, and another
 * site's page must not open a socket with the user's cookie.
 */
export function stateChangeRefusal(request: Request, url: URL): Response | undefined {
  const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
  if (SAFE_METHODS.has(request.method) && !upgrade) return undefined;
  if (!upgrade && !isJson(request.headers.get("content-type"))) {
    return refusal(
      415,
      41500,
      `${request.method} needs Content-Type: application/json (state changes accept JSON only)`,
    );
  }
  const origin = request.headers.get("origin");
  if (origin !== null) {
    return origin === url.origin
      ? undefined
      : refusal(403, 40300, `cross-origin request refused: Origin ${origin.slice(0, 200)} is not ${url.origin}`);
  }
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return refusal(403, 40300, `cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})`);
  }
  return undefined;
}
