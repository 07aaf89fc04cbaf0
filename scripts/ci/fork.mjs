// CI: a fork made the way people make one keeps working. On a copy of this checkout
// (./copy.mjs):
// 1. `npm create cloudflare -- --template` (C3) renames the project: it changes `name` in the
//    root wrangler.jsonc, and only there, then runs `npm install` (the copy shares this
//    checkout's node_modules) and the `cf-typegen` script. The Pages app must then bind the
//    renamed Worker.
// 2. A workflow is added exactly as docs/make-it-yours.md says (its code blocks are what is
//    written): its file, its export line, its wrangler.jsonc entry, `npm run types`, its test.
// 3. The checks that follow: the type check, the registry test, the tests every workflow gets
//    (the new one among them) and the new workflow's own test, both deploy builds within the
//    bundle budget.
// 4. The two processes of `npm run dev` (e2e/lib/stack.mjs): a create through the Pages app's
//    RPC path (its service binding, which must find the renamed Worker), of an order and of
//    the new workflow, read back to completion.
// Without the Pages app (npm run remove -- pages), 1 and 4 check only what is left: the rename
// and the Worker.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { applyEdits, modify, parse } from "jsonc-parser";
import { copyProject, root, run } from "./copy.mjs";

const NEW_NAME = "my-renamed-app";
const started = Date.now();
const copy = copyProject("fork");
const cwd = copy.dir;
const label = "fork";
const formatting = { formattingOptions: { insertSpaces: true, tabSize: 2 } };
const file = (path) => join(cwd, path);
const editJsonc = (path, edit) => {
  const text = readFileSync(file(path), "utf8");
  writeFileSync(file(path), applyEdits(text, edit(text)));
};

// 1. C3's rename.
editJsonc("wrangler.jsonc", (text) => modify(text, ["name"], NEW_NAME, formatting));
await run(label, "npm", ["run", "cf-typegen"], { cwd });
const withPages = existsSync(file("pages-app/wrangler.jsonc"));
if (withPages) {
  const pagesConfig = parse(readFileSync(file("pages-app/wrangler.jsonc"), "utf8"));
  const bound = pagesConfig.services.map((s) => s.service);
  if (bound.some((service) => service !== NEW_NAME)) {
    throw new Error(`after the rename the Pages app binds ${bound.join(", ")}, not ${NEW_NAME}`);
  }
  console.log(`  [${label}] pages-app/wrangler.jsonc binds ${NEW_NAME} (project ${pagesConfig.name})`);
}

// 2. A workflow, added as docs/make-it-yours.md says: each of its code blocks names the file
//    it belongs to after the language (```ts src/workflows/welcome-workflow.ts).
const guide = readFileSync(join(root, "docs/make-it-yours.md"), "utf8");
const blocks = [...guide.matchAll(/^```(\w+) (\S+)( add)?\n([\s\S]*?)^```$/gm)].map(([, lang, path, add, body]) => ({
  lang,
  path,
  add: Boolean(add),
  body,
}));
const workflowFile = blocks.find((b) => b.path.startsWith("src/workflows/") && !b.add);
const exportLine = blocks.find((b) => b.path === "src/workflows/index.ts" && b.add);
const entry = blocks.find((b) => b.path === "wrangler.jsonc" && b.add);
const testFile = blocks.find((b) => b.path.startsWith("test/") && !b.add);
if (!workflowFile || !exportLine || !entry || !testFile) {
  throw new Error(
    "docs/make-it-yours.md must show the workflow's file, its export line, its wrangler.jsonc entry and its test",
  );
}
writeFileSync(file(workflowFile.path), workflowFile.body);
writeFileSync(file(testFile.path), testFile.body);
writeFileSync(file(exportLine.path), readFileSync(file(exportLine.path), "utf8") + exportLine.body);
const declared = parse(entry.body);
editJsonc("wrangler.jsonc", (text) =>
  modify(text, ["workflows", -1], declared, { ...formatting, isArrayInsertion: true }),
);
await run(label, "npm", ["run", "types"], { cwd });
console.log(`  [${label}] added ${declared.name} (${workflowFile.path})`);

// 3. Its checks.
await run(label, "npm", ["run", "typecheck"], { cwd });
await run(label, "npm", ["run", "pretest"], { cwd });
await run(
  label,
  "npx",
  [
    "vitest",
    "run",
    "--project",
    "worker",
    "test/unit/registry.test.ts",
    "test/integration/every-workflow.test.ts",
    testFile.path,
  ],
  { cwd },
);
await run(label, "npm", ["run", "check:bundle"], { cwd });

// 4. The two processes, and a create through the Pages app's RPC path.
if (!withPages) {
  copy.remove();
  console.log(`fork: passed without a Pages app in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(0);
}
const { startStack } = await import(pathToFileURL(join(cwd, "e2e/lib/stack.mjs")).href);
const stackStarted = Date.now();
const stack = await startStack();
try {
  const pages = stack.pages.baseUrl;
  const key = stack.pages.keyHeader;
  const json = { "content-type": "application/json", origin: pages, ...key };
  // The workflows as the Worker describes them through the binding, with their example params.
  const listed = await (await fetch(`${pages}/rpc/workflows`, { headers: key })).json();
  for (const workflow of ["my-workflow", declared.name]) {
    const params = listed.result?.find((w) => w.name === workflow)?.example_params;
    if (params === undefined) throw new Error(`the RPC path does not list ${workflow}: ${JSON.stringify(listed)}`);
    const id = `fork-${workflow}-${Date.now().toString(36)}`;
    const created = await fetch(`${pages}/rpc/workflows/${workflow}/instances`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ instance_id: id, params }),
    });
    const body = await created.json();
    if (created.status !== 201 || body.result?.id !== id) {
      throw new Error(
        `create of ${workflow} through the Pages app's RPC path: ${created.status} ${JSON.stringify(body)}`,
      );
    }
    let status;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      status = (await (await fetch(`${pages}/rpc/workflows/${workflow}/instances/${id}`, { headers: key })).json())
        .result?.status;
      if (status === "complete") break;
    }
    if (status !== "complete") throw new Error(`${workflow}/${id} did not complete through the RPC path: ${status}`);
    console.log(
      `  [${label}] ${workflow}/${id}: created through ${pages}/rpc (service binding to ${NEW_NAME}), complete`,
    );
  }
} finally {
  await stack.stop();
}
console.log(`  [${label}] the two processes: ${((Date.now() - stackStarted) / 1000).toFixed(1)} s`);
copy.remove();
console.log(`fork: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
