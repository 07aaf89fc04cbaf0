import { conflict, InstanceError } from "../shared/errors";
import { bindingOf, type WorkflowDeclaration } from "../workflows/declaration";
import { mapPlatformError } from "../workflows/platform-errors";

/** Whether an instance of `definition` has this id: the binding finds it and answers status(). */
export async function instanceExists(env: Env, definition: WorkflowDeclaration, id: string): Promise<boolean> {
  try {
    await (await bindingOf(env, definition).get(id)).status();
    return true;
  } catch (error) {
    const mapped = mapPlatformError(error, definition.name, id);
    if (mapped instanceof InstanceError && mapped.kind === "not_found") return false;
    throw mapped;
  }
}

/**
 * Throws a 409 naming every id of `ids` an instance of `definition` already has. For a path
 * that accepts ids now and creates the instances later (the order queue): by the time the
 * binding refuses a taken id, the caller has gone, so the check is made while it waits.
 * A race remains (the id can be taken between this check and the create); whoever
 * creates later reports it. Costs one read per id: callers bound `ids` (100 at most).
 */
export async function assertIdsFree(env: Env, definition: WorkflowDeclaration, ids: readonly string[]): Promise<void> {
  const existing = await Promise.all(ids.map((id) => instanceExists(env, definition, id)));
  const taken = ids.filter((_, i) => existing[i]);
  if (taken.length) throw conflict(`instances of ${definition.name} already exist: ${taken.join(", ")}`);
}
