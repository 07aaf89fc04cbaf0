// `z.core` (zod.js): zod's core, "zod/v4/core", with the English-only `locales`.
export * from "zod/v4/core";
export * as locales from "./zod-locales.js";
