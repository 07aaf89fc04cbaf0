/**
 * The headers of a WebSocket handshake: all that a forwarded upgrade request carries (the Pages
 * app's /worker/* routes, the Worker's Agent routes). A header a client chose beyond these (an
 * SDK's own, an `X-Request-Id`) stays behind. Imports nothing, so the Pages app can bundle it.
 */
export const UPGRADE_HEADERS = [
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
] as const;
