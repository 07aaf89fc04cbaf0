// A copy of this project to try a change on (CI's removal, rename and add-a-workflow checks):
// the files git knows of (tracked, and new ones not ignored) copied to a temporary folder,
// and node_modules linked to this checkout's, so nothing is installed again. The copy is
// removed by `remove()`, and when this process exits.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const copies = new Set();
process.on("exit", () => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

export function copyProject(label) {
  const dir = mkdtempSync(join(tmpdir(), `wf-${label}-`));
  copies.add(dir);
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = join(root, file);
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    try {
      copyFileSync(from, to);
    } catch (error) {
      // A file deleted in the working tree but not yet in git's index.
      if (error.code !== "ENOENT") throw error;
    }
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return {
    dir,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      copies.delete(dir);
    },
  };
}

/** Runs a command in `cwd`, its output shown with `label`; resolves with its duration (s), rejects on failure. */
export function run(label, command, args, { cwd, env = {} } = {}) {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      const seconds = (Date.now() - started) / 1000;
      if (code === 0) {
        console.log(`  [${label}] ${[command, ...args].join(" ")}: ok (${seconds.toFixed(1)} s)`);
        resolvePromise(seconds);
      } else {
        console.error(output);
        reject(
          new Error(`[${label}] ${[command, ...args].join(" ")} failed (exit ${code}) after ${seconds.toFixed(1)} s`),
        );
      }
    });
  });
}
