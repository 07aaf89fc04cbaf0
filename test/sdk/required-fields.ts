/**
 * The fields the `cloudflare` SDK's types require of each response (its .d.ts files, the most
 * exact statement of the REST shapes available offline), read from the files themselves so a
 * field the SDK adds is checked too.
 */

import eventsDts from "../../node_modules/cloudflare/resources/workflows/instances/events.d.ts?raw";
import instancesDts from "../../node_modules/cloudflare/resources/workflows/instances/instances.d.ts?raw";
import statusDts from "../../node_modules/cloudflare/resources/workflows/instances/status.d.ts?raw";
import versionsDts from "../../node_modules/cloudflare/resources/workflows/versions.d.ts?raw";
import workflowsDts from "../../node_modules/cloudflare/resources/workflows/workflows.d.ts?raw";

const FILES = {
  instances: instancesDts,
  events: eventsDts,
  status: statusDts,
  versions: versionsDts,
  workflows: workflowsDts,
};

/**
 * The required fields of `interface <name>` in one of the SDK's files: those of its own body
 * (depth 1), without `?`. `name` may be nested (`InstanceGetResponse.UnionMember0`): the
 * interface is then looked up inside the namespace of the first part.
 */
export function requiredFields(file: keyof typeof FILES, name: string): string[] {
  const text = FILES[file];
  const [outer, inner] = name.split(".");
  let scope = text;
  if (inner) {
    const ns = text.indexOf(`namespace ${outer} {`);
    if (ns === -1) throw new Error(`no namespace ${outer} in ${file}`);
    scope = text.slice(ns);
  }
  const target = inner ?? outer!;
  const start = scope.search(new RegExp(`interface ${target} \\{`));
  if (start === -1) throw new Error(`no interface ${name} in ${file}`);
  const fields: string[] = [];
  let depth = 0;
  for (const line of scope.slice(start).split("\n")) {
    if (depth === 1) {
      const field = /^\s*(\w+):/.exec(line);
      if (field) fields.push(field[1]!);
    }
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
    if (depth === 0 && fields.length) break;
  }
  return fields;
}

/** The required fields `value` lacks (`undefined` counts as missing). */
export function missingFields(value: unknown, file: keyof typeof FILES, name: string): string[] {
  const object = (value ?? {}) as Record<string, unknown>;
  return requiredFields(file, name).filter((field) => object[field] === undefined);
}
