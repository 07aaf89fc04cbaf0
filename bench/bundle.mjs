// Builds the deploy bundle exactly as `wrangler deploy` would (dry run) and measures it:
// total and gzip size (computed as wrangler computes them), and what it is made of.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const require = createRequire(import.meta.url);
/** The wrangler CLI of this project, run with the current node (>= 22 under `npm run`). */
export const WRANGLER = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

/**
 * Runs a command and resolves with its output; rejects with the output when it fails.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string | undefined> }} [options]
 */
export function run(cmd, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}\n${output}`));
    });
  });
}

export const wrangler = (args, options) => run(process.execPath, [WRANGLER, ...args], options);

/**
 * `wrangler deploy --dry-run --outdir <outdir>` (optionally for another entry script),
 * with an esbuild metafile at `<outdir>/meta.json`.
 */
export async function build(outdir, entry) {
  await wrangler([
    "deploy",
    ...(entry ? [entry] : []),
    "--dry-run",
    "--outdir",
    outdir,
    "--metafile",
    join(outdir, "meta.json"),
  ]);
}

/** The entry module of a build (`index.js`, or named after another entry script). */
export function mainModule(outdir) {
  if (!existsSync(join(outdir, "meta.json"))) {
    const scripts = readdirSync(outdir).filter((f) => /\.m?js$/.test(f));
    return scripts.includes("index.js") || scripts.length !== 1 ? "index.js" : scripts[0];
  }
  const meta = JSON.parse(readFileSync(join(outdir, "meta.json"), "utf8"));
  const entry = Object.entries(meta.outputs).find(([, output]) => output.entryPoint);
  if (!entry) throw new Error(`no entry point in ${outdir}/meta.json`);
  return basename(entry[0]);
}

/** The uploaded modules of a build: the entry first, then chunks and other modules. */
export function moduleFiles(outdir) {
  const main = mainModule(outdir);
  const others = readdirSync(outdir)
    .filter((f) => f !== main && /\.(m?js|cjs|wasm|bin|txt|html|sql)$/.test(f))
    .sort();
  return [main, ...others].map((f) => resolve(outdir, f));
}

/** Size of the upload: raw bytes and gzip bytes of all modules together, as wrangler reports. */
export function bundleSize(outdir) {
  const contents = moduleFiles(outdir).map((f) => readFileSync(f));
  const all = Buffer.concat(contents);
  return { bytes: all.byteLength, gzipBytes: gzipSync(all).byteLength };
}

/** `node_modules/<pkg>/...` -> `<pkg>`, `src/<dir>/...` -> `src/<dir>`. */
export function ownerOf(path) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (match) return match[1];
  const parts = path.replace(/^(\.\.\/)+/, "").split("/");
  return parts.length > 2 ? parts.slice(0, 2).join("/") : parts.join("/");
}

/** Output bytes per package (or src folder), largest first, from the esbuild metafile. */
export function contributors(outdir) {
  const meta = JSON.parse(readFileSync(join(outdir, "meta.json"), "utf8"));
  const totals = new Map();
  let all = 0;
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
      const owner = ownerOf(input);
      totals.set(owner, (totals.get(owner) ?? 0) + bytesInOutput);
      all += bytesInOutput;
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]).map(([owner, bytes]) => ({ owner, bytes, share: bytes / all }));
}

export const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
