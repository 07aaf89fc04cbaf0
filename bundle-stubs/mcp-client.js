// Stub for "@modelcontextprotocol/client" (wrangler.jsonc "alias").
// This Worker connects to no MCP server. The agents SDK's MCP client manager (built into
// every Agent) imports these names; it only uses them once a server is added
// (addMcpServer, or servers restored from the Agent's storage, of which there are none):
// `new` on a class, `instanceof` checks on a live transport, and the OAuth provider's
// metadata URL check. So each is a class that cannot be constructed, or a function that
// throws; `instanceof` against them is simply false.
import { removed } from "./unused.js";

export class Client {
  constructor() {
    throw removed("The MCP client (@modelcontextprotocol/client)");
  }
}
export class StreamableHTTPClientTransport {
  constructor() {
    throw removed("The MCP Streamable HTTP transport (@modelcontextprotocol/client)");
  }
}
export class SSEClientTransport {
  constructor() {
    throw removed("The MCP SSE transport (@modelcontextprotocol/client)");
  }
}
export class SdkHttpError extends Error {}
export function validateClientMetadataUrl() {
  throw removed("MCP OAuth (@modelcontextprotocol/client)");
}
