// `z.locales` and `z.core.locales` (zod.js): English only. zod's default messages come from
// zod/v4/locales/en.js directly, not from its locale index, so they are unchanged.
export { default as en } from "zod/v4/locales/en.js";
