import { failure } from "../../src/shared/envelope";

/**
 * A refusal of the Pages app itself, before any route runs: the v4 envelope, so every
 * answer of this app reads alike, on the API prefixes and elsewhere.
 */
export function refusal(status: number, code: number, message: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(failure(code, message)), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
