// Stub for "@modelcontextprotocol/client/validators/cf-worker" (wrangler.jsonc "alias").
// The agents SDK subclasses this validator and constructs one at module load, for MCP
// clients it never creates here: construction must succeed, validating must not happen.
import { removed } from "./unused.js";

export class CfWorkerJsonSchemaValidator {
  getValidator() {
    throw removed("MCP JSON Schema validation (@modelcontextprotocol/client)");
  }
}
