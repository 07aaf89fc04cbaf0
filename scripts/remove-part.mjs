// `npm run remove -- <part> [<part>...] [options]`: removes optional parts of this project
// (agent, queue, cron, parent, pages; scripts/parts.mjs says what each is), leaving a project
// whose checks and tests pass: CI removes each part from a copy and runs them there.
//
// For each part it deletes the part's files, the lines and blocks marked `part: <name>`
// wherever they are (its wiring in src/index.ts, its steps in .ci/template-checks, its rows in the docs),
// its configuration in wrangler.jsonc (comments kept), its package.json scripts, dependencies
// and workspace; then it mends the docs' links to the pages it deleted, formats what it
// changed, regenerates the types (`npm run types`) and runs `npm install` when dependencies
// changed. docs/make-it-yours.md describes each part.
//
// Options:
//   --never-deployed  (agent) this Worker was never deployed: the Agent's Durable Object class
//                     simply leaves migration v1
//   --deployed        (agent) it was: a new migration deletes the class (`deleted_classes`),
//                     and with it every Agent's stored data, on the next deploy
//   --no-install      skip `npm install` (CI, whose copies share node_modules)
//   --no-types        skip `npm run types`
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applyEdits, modify, parse } from "jsonc-parser";
import { PARTS } from "./parts.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith("--")));
const names = args.filter((a) => !a.startsWith("--"));
const known = ["--never-deployed", "--deployed", "--no-install", "--no-types"];

function usage(problem) {
  console.error(`remove: ${problem}
usage: npm run remove -- <part> [<part>...] [--never-deployed | --deployed] [--no-install] [--no-types]
parts:
${Object.entries(PARTS)
  .map(([name, part]) => `  ${name.padEnd(7)} ${part.about}`)
  .join("\n")}
See docs/make-it-yours.md.`);
  process.exit(2);
}

if (names.length === 0) usage("name the part(s) to remove");
for (const name of names) if (!PARTS[name]) usage(`no part named ${name}`);
for (const flag of flags) if (!known.includes(flag)) usage(`unknown option ${flag}`);
if (flags.has("--deployed") && flags.has("--never-deployed")) usage("give --deployed or --never-deployed, not both");
const withClasses = names.filter((name) => PARTS[name].durableObjects?.length);
if (withClasses.length && !flags.has("--deployed") && !flags.has("--never-deployed")) {
  usage(`${withClasses.join(", ")} has a Durable Object class; say whether this Worker was ever deployed:
  --never-deployed  the class leaves migration v1 (only for a Worker never deployed)
  --deployed        a new migration deletes the class and all its stored data on the next deploy`);
}

const changed = new Set();
const rel = (path) => relative(root, path).split("\\").join("/");
const read = (path) => readFileSync(join(root, path), "utf8");
const write = (path, text) => {
  if (read(path) === text) return;
  writeFileSync(join(root, path), text);
  changed.add(path);
};

/** The project's own text files: no dependencies, build output or local state. */
const SKIP = new Set(["node_modules", ".git", "dist", ".wrangler", "coverage"]);
const TEXT = /\.(ts|mts|mjs|js|json|jsonc|md|html|css|ya?ml|txt|example)$|^run$|^_headers$/;
function textFiles(dir = root) {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return textFiles(path);
    return TEXT.test(name) ? [rel(path)] : [];
  });
}

const deleted = [];
for (const name of names) {
  const part = PARTS[name];
  console.log(`remove: ${name}, ${part.about}`);

  // 1. Its files.
  for (const file of part.files) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    deleted.push(file.replace(/\/$/, ""));
    console.log(`  deleted ${file}`);
  }

  // 2. Its marked lines and blocks, in every file of the project.
  const line = new RegExp(`part: ${name}\\b`);
  const from = new RegExp(`part: ${name} \\(from here\\)`);
  const to = new RegExp(`part: ${name} \\(to here\\)`);
  for (const file of textFiles()) {
    const text = read(file);
    if (!line.test(text)) continue;
    const kept = [];
    let inBlock = false;
    for (const l of text.split("\n")) {
      if (from.test(l)) inBlock = true;
      else if (to.test(l)) inBlock = false;
      else if (!inBlock && !line.test(l)) kept.push(l);
    }
    if (inBlock) throw new Error(`${file}: "part: ${name} (from here)" has no "(to here)"`);
    write(file, kept.join("\n"));
    console.log(`  ${file}: its marked lines`);
  }

  // 3. Its configuration in wrangler.jsonc.
  const formatting = { formattingOptions: { insertSpaces: true, tabSize: 2 } };
  let config = read("wrangler.jsonc");
  const edits = part.wrangler(parse(config), { deployed: flags.has("--deployed") });
  for (const cls of part.durableObjects ?? []) {
    const migrations = parse(config).migrations ?? [];
    if (flags.has("--deployed")) {
      const last = migrations.at(-1)?.tag ?? "v0";
      const tag = /^v\d+$/.test(last) ? `v${Number(last.slice(1)) + 1}` : `${last}-remove-${name}`;
      edits.push([["migrations", migrations.length], { tag, deleted_classes: [cls.className] }]);
    } else {
      for (const [i, m] of migrations.entries()) {
        for (const key of ["new_sqlite_classes", "new_classes"]) {
          const list = m[key];
          if (Array.isArray(list) && list.includes(cls.className)) {
            edits.push([["migrations", i, key], list.filter((c) => c !== cls.className)]);
          }
        }
      }
    }
  }
  for (const [path, value] of edits) {
    config = applyEdits(config, modify(config, path, value, formatting));
  }
  write("wrangler.jsonc", config);
  if (edits.length) console.log(`  wrangler.jsonc: ${edits.map(([path]) => path.join(".")).join(", ")}`);

  // 4. package.json.
  const pkg = JSON.parse(read("package.json"));
  for (const script of part.scripts ?? []) delete pkg.scripts?.[script];
  for (const dependency of part.dependencies ?? []) {
    delete pkg.dependencies?.[dependency];
    delete pkg.devDependencies?.[dependency];
  }
  if (part.workspaces && pkg.workspaces) {
    pkg.workspaces = pkg.workspaces.filter((w) => !part.workspaces.includes(w));
    if (pkg.workspaces.length === 0) delete pkg.workspaces;
  }
  if (part.product && pkg.cloudflare?.products) {
    pkg.cloudflare.products = pkg.cloudflare.products.filter((p) => p !== part.product);
  }
  write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
}

// 5. The package.json preview image, and the docs' links to what was deleted.
const gone = (target) => deleted.some((d) => target === d || target.startsWith(`${d}/`));
const pkg = JSON.parse(read("package.json"));
if (pkg.cloudflare?.preview_image_url && gone(pkg.cloudflare.preview_image_url)) {
  delete pkg.cloudflare.preview_image_url;
  write("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
}
const docs = [
  "README.md",
  ...(existsSync(join(root, "docs")) ? readdirSync(join(root, "docs")) : [])
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
].filter((f) => existsSync(join(root, f)));
for (const doc of docs) {
  const target = (href) => {
    const path = href.split("#")[0];
    if (!path || /^[a-z][a-z0-9+.-]*:/i.test(path)) return undefined;
    return rel(resolve(root, dirname(doc), decodeURIComponent(path)));
  };
  const link = /(!?)\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
  const lines = [];
  for (const l of read(doc).split("\n")) {
    const dead = [...l.matchAll(link)].filter((m) => {
      const t = target(m[3]);
      return t !== undefined && gone(t);
    });
    if (dead.length === 0) {
      lines.push(l);
      continue;
    }
    // A table row or an image about what is gone goes with it, and so does a list item that
    // links only there.
    const links = [...l.matchAll(link)];
    const onlyDead = links.every((m) => dead.some((d) => d.index === m.index));
    if (/^\s*\|/.test(l) || dead.some((m) => m[1] === "!") || (/^\s*[-*] /.test(l) && onlyDead)) continue;
    // In a list of links (`[A](a.md) · [B](b.md)`) the dead ones go; any other becomes its text.
    const isDead = (text) => dead.some((m) => m[0] === text);
    const mended = l
      .replace(/\s*·\s*(\[[^\]]*\]\([^)]*\))/g, (whole, item) => (isDead(item) ? "" : whole))
      .replace(/(\[[^\]]*\]\([^)]*\))\s*·\s*/g, (whole, item) => (isDead(item) ? "" : whole))
      .replace(link, (whole, _bang, text) => (isDead(whole) ? text : whole));
    lines.push(mended);
  }
  // Links whose text runs over a line break become their text too.
  const text = lines.join("\n").replace(/\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, label, href) => {
    const t = target(href);
    return t !== undefined && gone(t) ? label : whole;
  });
  write(doc, text);
}

// 6. Format what changed, regenerate the types, update the lockfile.
const run = (command, commandArgs) => execFileSync(command, commandArgs, { cwd: root, stdio: "inherit" });
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const formattable = [...changed].filter((f) => /\.(ts|mjs|js|json|jsonc|md|css)$/.test(f) && existsSync(join(root, f)));
if (formattable.length) run(npx, ["biome", "check", "--write", "--no-errors-on-unmatched", ...formattable]);
if (!flags.has("--no-types")) run(npm, ["run", "types"]);
const dependenciesChanged = names.some((n) => PARTS[n].dependencies?.length || PARTS[n].workspaces?.length);
if (dependenciesChanged && !flags.has("--no-install")) run(npm, ["install", "--no-audit", "--no-fund"]);

console.log(`remove: done (${names.join(", ")}). Changed: ${[...changed].sort().join(", ") || "nothing else"}.`);
if (flags.has("--deployed") && withClasses.length) {
  console.log(
    "remove: the next deploy applies the new migration: it deletes the removed Durable Object class and its stored data.",
  );
}
console.log("remove: now run `npm run check` and `npm test`.");
