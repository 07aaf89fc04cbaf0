// The deploy-bundle size budget.
//
//   npm run check:template -- bundle  build with `wrangler deploy --dry-run --outdir dist/worker`,
//                                     fail when the gzip size exceeds bench/bundle-budget.json
//   npx node bench/check-bundle.mjs --update   same build, then set the budget to the measured size
//                                     plus the headroom in the file (after an intended growth)
import { readFileSync, writeFileSync } from "node:fs";
import { build, bundleSize, contributors, kib } from "./bundle.mjs";

const BUDGET_FILE = new URL("./bundle-budget.json", import.meta.url);
const OUTDIR = "dist/worker";

const budget = JSON.parse(readFileSync(BUDGET_FILE, "utf8"));
await build(OUTDIR);
const size = bundleSize(OUTDIR);
const top = contributors(OUTDIR)
  .slice(0, 5)
  .map((c) => `${c.owner} ${kib(c.bytes)} (${Math.round(c.share * 100)}%)`)
  .join(", ");

console.log(
  `deploy bundle: ${kib(size.bytes)}, gzip ${kib(size.gzipBytes)}; budget gzip ${kib(budget.gzip_bytes_max)}`,
);
console.log(`largest parts (minified bytes): ${top}`);

if (process.argv.includes("--update")) {
  const headroom = budget.headroom ?? 0.05;
  // Round up to a whole KiB so the file reads well.
  budget.gzip_bytes_max = Math.ceil((size.gzipBytes * (1 + headroom)) / 1024) * 1024;
  budget.measured = { gzip_bytes: size.gzipBytes, bytes: size.bytes, date: new Date().toISOString().slice(0, 10) };
  writeFileSync(BUDGET_FILE, `${JSON.stringify(budget, null, 2)}\n`);
  console.log(`budget updated: gzip ${kib(budget.gzip_bytes_max)} (measured + ${Math.round(headroom * 100)}%)`);
} else if (size.gzipBytes > budget.gzip_bytes_max) {
  console.error(
    `FAIL: gzip size ${size.gzipBytes} B exceeds the budget of ${budget.gzip_bytes_max} B by ${size.gzipBytes - budget.gzip_bytes_max} B.\n` +
      "dist/worker/meta.json (an esbuild metafile) shows what grew; if the growth is intended, run `npx node bench/check-bundle.mjs --update` and commit bench/bundle-budget.json.",
  );
  process.exit(1);
} else {
  console.log(`ok: ${budget.gzip_bytes_max - size.gzipBytes} B under budget`);
}
