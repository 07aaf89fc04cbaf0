import { conflict } from "../shared/errors";

/**
 * Instance ids being created right now in this isolate.
 *
 * The local Workflows binding checks whether an id exists and then creates it, in two
 * steps, and a new instance becomes visible only once its engine has stored it; so
 * concurrent creates of one id all "succeed" there, where the platform answers all but
 * one with `instance.already_exists`. Claiming an id from before the create until the
 * new instance answers `status()` gives the contract's answer locally too: exactly one
 * create wins, the others get 409. Within one isolate the claim also spares the platform
 * the losing calls; across isolates the platform's own check decides.
 */
const claimed = new Set<string>();

/** Claims `ids` of `workflow` or throws a conflict; call the returned function to release. */
export function claimIds(workflow: string, ids: readonly string[]): () => void {
  const keys = ids.map((id) => `${workflow}/${id}`);
  const busy = ids.filter((_, i) => claimed.has(keys[i]!));
  if (busy.length) {
    throw conflict(`instance ${busy.join(", ")} of ${workflow} already exists (another request is creating it)`);
  }
  for (const key of keys) claimed.add(key);
  return () => {
    for (const key of keys) claimed.delete(key);
  };
}
