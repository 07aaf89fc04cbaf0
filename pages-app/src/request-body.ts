import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { failure } from "../../src/shared/envelope";
import { InstanceError } from "../../src/shared/errors";
import { nestingDepth, PAYLOAD_MAX_DEPTH } from "../../src/shared/nesting";

/**
 * Bodies bigger than this never reach the Worker. It is well above the Worker's own
 * limit (1 MiB of params plus room, answered with 413 by the Worker on either path)
 * and well below the 32 MiB a Workers RPC message may carry.
 */
export const PAGES_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const limitBody = () =>
  bodyLimit({
    maxSize: PAGES_MAX_BODY_BYTES,
    onError: (c) => c.json(failure(41300, `request body exceeds ${PAGES_MAX_BODY_BYTES} bytes`), 413),
  });

/**
 * The request body as JSON for an RPC call, read the way the Worker's API reads it
 * (an empty body is `undefined`, malformed JSON a 400 naming `body`). Kept here rather
 * than imported from src/api/middleware.ts so this bundle does not carry the Worker's
 * validation code; the Worker still validates every argument it receives.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InstanceError("invalid_input", "body: malformed JSON", "body");
  }
  // RPC clones arguments recursively: a body nested thousands deep would overflow the
  // stack on this side of the binding (a 502), so refuse it here as the Worker would.
  if (nestingDepth(value, PAYLOAD_MAX_DEPTH) > PAYLOAD_MAX_DEPTH) {
    throw new InstanceError(
      "invalid_input",
      `body: must not nest objects and arrays more than ${PAYLOAD_MAX_DEPTH} levels deep`,
      "body",
    );
  }
  return value;
}
