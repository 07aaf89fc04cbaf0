// `npm run check:template -- docs`: every relative link in README.md and docs/*.md points at a file
// that exists and, when it names an anchor, at a heading of that file (GitHub's slugs);
// the README stays the front door (at most 250 lines).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const README_MAX_LINES = 250;
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Markdown outside fenced code blocks. */
const outsideFences = (text) =>
  text
    .split(/^```.*$/m)
    .filter((_, i) => i % 2 === 0)
    .join("\n");

const anchorsOf = new Map();
/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(file) {
  if (anchorsOf.has(file)) return anchorsOf.get(file);
  const seen = new Map();
  const out = new Set();
  for (const [, heading] of outsideFences(readFileSync(file, "utf8")).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[*_`]/g, "");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  anchorsOf.set(file, out);
  return out;
}

const problems = [];
for (const page of pages) {
  const file = join(root, page);
  const text = readFileSync(file, "utf8");
  // Links are read from the raw text minus fenced blocks: inline code may sit inside link text.
  const body = outsideFences(text);
  for (const [, target] of body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split("#");
    const dest = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
    if (!existsSync(dest)) {
      problems.push(`${page}: link to ${target}: no such file`);
      continue;
    }
    if (anchor && statSync(dest).isFile() && dest.endsWith(".md") && !anchors(dest).has(anchor)) {
      problems.push(`${page}: link to ${target}: no heading #${anchor} in ${relative(root, dest)}`);
    }
  }
}
const readmeLines = readFileSync(join(root, "README.md"), "utf8").split("\n").length - 1;
if (readmeLines > README_MAX_LINES) problems.push(`README.md: ${readmeLines} lines, more than ${README_MAX_LINES}`);

if (problems.length) {
  console.error(`docs: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`docs: ${pages.length} pages, every relative link resolves; README.md ${readmeLines} lines`);
