// The members of `z` (zod.js). zod's own entry "zod/v4" (no alias key) exports every name
// "zod" does, plus `z`. A module's own exports win over the names it re-exports with
// `export *`, so the three below replace zod's: its `locales`, its `core` (which re-exports
// `locales`) and its `z` (the namespace holding both) are never referenced, and esbuild
// leaves them and every locale out.
export * from "zod/v4";
export * as core from "./zod-core.js";
export * as locales from "./zod-locales.js";
// zod's `z` has no `z` member either (reading it gives undefined, as here).
export const z = undefined;
