// Stub for "capnweb" (wrangler.jsonc "alias").
// The agents SDK uses it only for WebSocket upgrades that ask for the Cap'n Web transport
// (`?__agents_transport=capnweb`, what agents/client sends with that transport chosen).
// The dashboard speaks the SDK's JSON protocol over a plain WebSocket, and the Worker calls
// the Agent over Workers RPC, so such an upgrade fails here instead.
import { removed } from "./unused.js";

export function newWebSocketRpcSession() {
  throw removed("The Cap'n Web WebSocket transport (capnweb)");
}
