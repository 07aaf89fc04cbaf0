import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** The API token the Worker under test accepts; tests send it as a bearer token. */
export const TEST_API_TOKEN = "test-token-0123456789";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: { bindings: { API_TOKEN: TEST_API_TOKEN } },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/**/*.test.ts"],
        },
      },
    ],
  },
});
