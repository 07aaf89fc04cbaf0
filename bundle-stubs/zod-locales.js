// Stub for zod's locale index (wrangler.jsonc "alias" key "../locales/index.js": the
// specifier zod/v4/core/index.js and zod/v4/classic/external.js import it by).
// `import { z } from "zod"` keeps the whole `z` namespace, `z.locales` and its 60-odd
// locales included (~260 KiB minified), even where only z.fromJSONSchema is used (the
// agents SDK's MCP client manager). Zod's default English messages come from
// zod/v4/locales/en.js directly, not from here; this keeps `z.locales.en` only.
export { default as en } from "zod/v4/locales/en.js";
