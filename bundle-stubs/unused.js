// Shared by the stubs in this folder: the error every removed feature throws.
export function removed(what) {
  return new Error(
    `${what} is not in this Worker's bundle (wrangler.jsonc "alias" replaces it with a stub in bundle-stubs/); ` +
      "remove the alias to use it",
  );
}
