// What the dashboard ships: every file under pages-app/public (the page loads all of
// them), raw, gzip and brotli, as a CDN would compress them.
//
//   npx node e2e/dashboard-size.mjs
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("../pages-app/public/", import.meta.url));
const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });

// _headers is configuration for Pages, never sent to the browser.
const rows = files(root)
  .filter((path) => !path.endsWith("_headers"))
  .map((path) => {
    const bytes = readFileSync(path);
    return {
      file: relative(root, path),
      raw: bytes.length,
      gzip: gzipSync(bytes).length,
      brotli: brotliCompressSync(bytes).length,
    };
  })
  .sort((a, b) => b.raw - a.raw);
const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), {
  raw: 0,
  gzip: 0,
  brotli: 0,
});
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.table(
  Object.fromEntries(
    [...rows, { file: `total (${rows.length} files)`, ...total }].map((r) => [
      r.file,
      { raw: kib(r.raw), gzip: kib(r.gzip), brotli: kib(r.brotli) },
    ]),
  ),
);
