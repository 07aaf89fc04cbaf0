import { conflict, InstanceError, invalid, notFound } from "../shared/errors";

/**
 * The Workflows binding reports failures as Errors whose message carries the platform's
 * code: `(instance.already_exists) Workflow instance with id "x" already exists`,
 * `instance.not_found`, `workflows.api.error.instance.already_exists` in a batch result.
 * Map the codes a caller can act on, by their `instance.*` token, never by loose text: a
 * message that merely says "not found" (a missing binding, a downstream service) is a
 * real fault, and mapping it to a 404 would tell the caller, or a status refresh, that
 * an instance is gone when it is not. Anything unmapped stays an error.
 */
const PLATFORM_CODE = /(?:^|[\s(.])instance\.([a-z_]+)\b/;

/**
 * The two messages matched on their text are the engine's own, word for word: a restart
 * `from` a step the instance never ran (`(instance.cannot_restart) Step "x" not found in
 * execution history`), a mistake in the request rather than a conflict; and the invalid id
 * of a single create, which carries no code.
 */
const STEP_NOT_IN_HISTORY = /^\(instance\.cannot_restart\) Step ".*" not found in execution history$/s;
const INVALID_ID_WITHOUT_CODE = /^(?:WorkflowError: )?Workflow instance has invalid id$/;

/** Whether a binding's error message says the id is taken (a create, or one entry of a batch create's `errors`). */
export const isAlreadyExists = (message: string): boolean =>
  PLATFORM_CODE.exec(message.replace(/^WorkflowError: /, ""))?.[1] === "already_exists";

export function mapPlatformError(error: unknown, workflow: string, id?: string): unknown {
  if (error instanceof InstanceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const which = id ? `instance ${id} of ${workflow}` : `instance of ${workflow}`;
  const text = message.replace(/^WorkflowError: /, "");
  if (STEP_NOT_IN_HISTORY.test(text)) {
    return invalid("from.name", "names no step in this instance's execution history");
  }
  if (INVALID_ID_WITHOUT_CODE.test(message)) return invalidId();
  switch (PLATFORM_CODE.exec(text)?.[1]) {
    case "not_found":
      return notFound(which);
    case "already_exists":
      return conflict(`${which} already exists`);
    case "cannot_terminate":
      return conflict(`${which} has already finished and cannot be terminated`);
    case "cannot_restart":
      return conflict(`${which} cannot be restarted now`);
    case "invalid_id":
      return invalidId();
    default:
      return error;
  }
}

const invalidId = () => invalid("instance_id", "rejected by the platform as an invalid id");
