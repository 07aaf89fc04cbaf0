// `npm run check:template -- deps`: the Worker's modules depend on each other one way. It parses every
// import of src/ and of the Pages app's code (pages-app/src, pages-app/functions) with the
// TypeScript parser, then fails, naming the file and the import, on:
// - an import cycle (type-only imports count: a cycle of types is still two modules that
//   cannot be understood, moved or removed apart);
// - the core (src/workflows, src/instances) importing a front (src/api, src/rpc,
//   src/triggers) or an optional part (src/agents); src/workflows importing src/instances
//   (the core's one direction: instances -> workflows);
// - src/api importing src/rpc (the RPC front mounts the HTTP API's routes, never the reverse);
// - src/shared importing anything of the Worker outside src/shared, or a runtime module;
// - the Pages app importing the Worker other than src/shared at runtime, or types other than
//   from the Worker's entry (src/index.ts);
// - a module of an optional part (scripts/parts.mjs) imported from outside that part, but
//   for the line that wires it in (src/index.ts, or src/workflows/index.ts for a workflow).
// `--report` prints the figures (modules, imports, cycles, core -> front imports) and exits 0.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const report = process.argv.includes("--report");

const SOURCE_DIRS = ["src", "pages-app/src", "pages-app/functions"];
/** Read for the optional parts' rule only: a test of the core or of one part uses no other part. */
const TEST_DIRS = ["test", "pages-app/test", "e2e", "scripts", "bench"];
const EXTENSIONS = [".ts", ".js", ".mjs"];

function walk(dir) {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) return walk(path);
    return EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** `./x` from `src/a/b.ts` -> `src/a/x.ts` (or .js, or x/index.ts), or undefined for a package. */
function resolveImport(from, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  const base = relative(root, resolve(root, dirname(from), specifier))
    .split("\\")
    .join("/");
  for (const candidate of [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => `${base}/index${e}`)]) {
    const full = join(root, candidate);
    if (existsSync(full) && statSync(full).isFile()) return candidate;
  }
  return `${base} (missing)`;
}

/** Every import of a file: `{ specifier, to, typeOnly, line }`. */
function importsOf(file) {
  const text = readFileSync(join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (node, specifier, typeOnly) =>
    found.push({
      specifier,
      to: resolveImport(file, specifier),
      typeOnly,
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
    });
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings : undefined;
      const typeOnly = Boolean(
        clause &&
          (clause.isTypeOnly ||
            (!clause.name && named && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly))),
      );
      add(node, node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause : undefined;
      const typeOnly =
        node.isTypeOnly || Boolean(named && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      add(node, node.moduleSpecifier.text, typeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node, node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) add(node, literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = SOURCE_DIRS.flatMap(walk).sort();
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const edges = [...graph].flatMap(([from, list]) => list.filter((i) => i.to).map((i) => ({ from, ...i })));
const testEdges = TEST_DIRS.flatMap(walk).flatMap((from) =>
  importsOf(from)
    .filter((i) => i.to)
    .map((i) => ({ from, ...i })),
);

/**
 * Elementary cycles of a graph given as `[from, to]` pairs, each once, from its smallest node
 * (a plain depth-first search: the graphs here are small).
 */
function cycles(pairs) {
  const nodes = [...new Set(pairs.flat())].sort();
  const next = new Map(nodes.map((n) => [n, [...new Set(pairs.filter(([from]) => from === n).map(([, to]) => to))]]));
  const found = [];
  for (const start of nodes) {
    const path = [start];
    const onPath = new Set(path);
    const extend = (node) => {
      for (const to of next.get(node) ?? []) {
        if (to === start) found.push([...path, start]);
        else if (to > start && !onPath.has(to)) {
          path.push(to);
          onPath.add(to);
          extend(to);
          path.pop();
          onPath.delete(to);
        }
      }
    };
    extend(start);
  }
  return found;
}

const under = (file, dir) => file === dir || file.startsWith(`${dir}/`);
const CORE = ["src/workflows", "src/instances"];
const FRONTS = ["src/api", "src/rpc", "src/triggers"];
const PARTS_DIRS = ["src/agents"];

const problems = [];
const at = (e) => `${e.from}:${e.line} imports ${e.specifier}${e.typeOnly ? " (types)" : ""}`;

const found = cycles(edges.map((e) => [e.from, e.to]));
for (const cycle of found) problems.push(`import cycle: ${cycle.join(" -> ")}`);
/** The folder a module belongs to, as the layering speaks of them: src/api, src/workflows, pages-app/src... */
const folder = (file) =>
  file
    .split("/")
    .slice(0, file.startsWith("src/") && file.split("/").length > 2 ? 2 : -1)
    .join("/");
const folderPairs = edges.filter((e) => folder(e.from) !== folder(e.to)).map((e) => [folder(e.from), folder(e.to)]);
const folderCycles = cycles(folderPairs);
for (const cycle of folderCycles) {
  const pairs = cycle.slice(1).map((to, i) => [cycle[i], to]);
  const witnesses = pairs.map(([a, b]) => at(edges.find((e) => folder(e.from) === a && folder(e.to) === b)));
  problems.push(`folders import each other: ${cycle.join(" -> ")} (${witnesses.join("; ")})`);
}

const coreToFront = edges.filter(
  (e) => CORE.some((d) => under(e.from, d)) && [...FRONTS, ...PARTS_DIRS].some((d) => under(e.to, d)),
);
for (const e of coreToFront) problems.push(`the core imports a front or an optional part: ${at(e)}`);
for (const e of edges.filter((e) => under(e.from, "src/workflows") && under(e.to, "src/instances"))) {
  problems.push(`src/workflows imports src/instances (the core depends one way, instances -> workflows): ${at(e)}`);
}
for (const e of edges.filter((e) => under(e.from, "src/api") && under(e.to, "src/rpc"))) {
  problems.push(`src/api imports src/rpc (rpc mounts the API's routes, never the reverse): ${at(e)}`);
}
for (const [from, list] of graph) {
  if (!under(from, "src/shared")) continue;
  for (const i of list) {
    const e = { from, ...i };
    if (i.to && !under(i.to, "src/shared")) problems.push(`src/shared imports outside src/shared: ${at(e)}`);
    if (i.specifier.startsWith("cloudflare:")) problems.push(`src/shared imports a runtime module: ${at(e)}`);
  }
}
const pagesToWorker = edges.filter((e) => under(e.from, "pages-app") && under(e.to, "src"));
const pagesRuntime = pagesToWorker.filter((e) => !e.typeOnly);
for (const e of pagesRuntime.filter((e) => !under(e.to, "src/shared"))) {
  problems.push(`the Pages app imports the Worker's internals at runtime (only src/shared is shared): ${at(e)}`);
}
for (const e of pagesToWorker.filter((e) => e.typeOnly && !under(e.to, "src/shared") && e.to !== "src/index.ts")) {
  problems.push(`the Pages app imports types other than from the Worker's entry (src/index.ts): ${at(e)}`);
}

// Optional parts: only their wiring imports them.
const manifest = join(root, "scripts/parts.mjs");
if (existsSync(manifest)) {
  const { PARTS } = await import(manifest);
  for (const [name, part] of Object.entries(PARTS)) {
    const owned = (file) => part.files.some((f) => under(file, f.replace(/\/$/, "")));
    const crossing = [...edges, ...testEdges].filter(
      (e) => owned(e.to) && !owned(e.from) && !(part.wiredIn ?? []).includes(e.from),
    );
    for (const e of crossing) {
      problems.push(
        `${e.to} belongs to the optional part "${name}", plugged in at ${(part.wiredIn ?? []).join(", ")} only: ${at(e)}`,
      );
    }
  }
}

if (report) {
  console.log(`modules: ${files.length}, imports between them: ${edges.length}`);
  console.log(`import cycles between modules: ${found.length}`);
  for (const c of found) console.log(`  ${c.join(" -> ")}`);
  console.log(`import cycles between folders: ${folderCycles.length}`);
  for (const c of folderCycles) console.log(`  ${c.join(" -> ")}`);
  console.log(`core -> front/optional part imports: ${coreToFront.length}`);
  for (const e of coreToFront) console.log(`  ${at(e)}`);
  const w2i = edges.filter((e) => under(e.from, "src/workflows") && under(e.to, "src/instances"));
  const i2w = edges.filter((e) => under(e.from, "src/instances") && under(e.to, "src/workflows"));
  console.log(`src/workflows -> src/instances: ${w2i.length}, src/instances -> src/workflows: ${i2w.length}`);
  const apiRpc = edges.filter(
    (e) => (under(e.from, "src/api") && under(e.to, "src/rpc")) || (under(e.from, "src/rpc") && under(e.to, "src/api")),
  );
  console.log(`src/api <-> src/rpc imports: ${apiRpc.length}`);
  for (const e of apiRpc) console.log(`  ${at(e)}`);
  console.log(
    `pages-app imports of src/: ${pagesToWorker.length} (${pagesRuntime.length} at runtime, from ${new Set(pagesRuntime.map((e) => e.from)).size} files)`,
  );
  for (const e of pagesToWorker) console.log(`  ${at(e)}`);
  console.log(`problems: ${problems.length}`);
  process.exit(0);
}

if (problems.length) {
  console.error(`deps: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`deps: ${files.length} modules, ${edges.length} imports: no cycle, dependencies point one way`);
