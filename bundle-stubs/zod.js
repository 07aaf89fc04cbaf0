// Stand-in for "zod" (wrangler.jsonc "alias"): all of zod, taken from zod's own modules,
// but for its 60-odd locales (~260 KiB minified), of which it keeps English.
// `import { z } from "zod"` (in src/, and in the agents SDK's MCP client manager for
// z.fromJSONSchema) keeps the whole `z` namespace object, whatever is used of it, and with it
// `z.locales` and `z.core.locales`. This `z` (zod-namespace.js) has every member of zod's own,
// the very same values, except those two namespaces, whose `locales` hold `en` only.
import * as z from "./zod-namespace.js";

export * from "./zod-namespace.js";
export { z, z as default };
