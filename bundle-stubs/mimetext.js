// Stub for "mimetext" (wrangler.jsonc "alias"); the real one carries mime-db (134 KiB).
// The agents SDK imports it lazily in Agent#replyToEmail only; this Worker handles no e-mail.
import { removed } from "./unused.js";

export function createMimeMessage() {
  throw removed("Agent e-mail replies (mimetext)");
}
