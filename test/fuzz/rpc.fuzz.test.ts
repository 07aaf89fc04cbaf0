import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RpcResult } from "../../src/shared/rpc-result";
import { bindingOf } from "../../src/workflows/declaration";
import { INSTANCE_ID_PATTERN } from "../../src/workflows/platform-limits";
import { WORKFLOWS } from "../../src/workflows/registry";
import { largeOrder } from "../helpers";
import * as arb from "./arbitraries";
import { expectEnvelope } from "./envelope";
import { introspectEveryWorkflow, startedIds, startedParams } from "./started";

/**
 * WorkflowService (the RPC entrypoint) under random arguments, through
 * `exports.WorkflowService`: a real service binding, so every argument is serialized
 * across RPC as a caller's would be. Trusted callers can still send anything.
 */
const service = exports.WorkflowService;

/** Any argument a caller might pass: right-looking values, wrong types, nothing at all. */
const anyArg = fc.oneof(
  { weight: 3, arbitrary: arb.anyJson },
  fc.constant(undefined),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 1, max: 200 }).map((depth) => JSON.parse("[".repeat(depth) + "]".repeat(depth)) as unknown),
);
const workflowArg = fc.oneof({ weight: 3, arbitrary: arb.workflowName }, anyArg);
const idArg = fc.oneof({ weight: 3, arbitrary: arb.instanceId }, anyArg);
const optionsArg = fc.oneof({ weight: 3, arbitrary: arb.createBody }, anyArg);

interface Call {
  method: string;
  args: unknown[];
  /** A valid create: it must succeed. */
  valid?: true;
}
/**
 * Arguments as a caller could send them: fast-check builds some objects without a
 * prototype, which RPC refuses to serialize on the caller's side (never reaching the
 * service), so each argument goes through JSON, which also gives `__proto__` keys as
 * own properties, as a parsed request body would.
 */
const cloneable = (value: unknown) =>
  value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
const call = (method: string, ...args: fc.Arbitrary<unknown>[]) =>
  fc.tuple(...args).map((values): Call => ({ method, args: values.map(cloneable) }));

const calls: fc.Arbitrary<Call> = fc.oneof(
  call("create", workflowArg, optionsArg),
  call("createBatch", workflowArg, fc.oneof(fc.array(optionsArg, { maxLength: 4 }), anyArg)),
  call(
    "listInstances",
    workflowArg,
    fc.oneof(
      fc.record({ status: anyArg, page: anyArg, per_page: anyArg, cursor: anyArg }, { requiredKeys: [] }),
      anyArg,
    ),
  ),
  call("status", workflowArg, idArg),
  call("changeStatus", workflowArg, idArg, fc.oneof(arb.statusBody, anyArg)),
  call("pause", workflowArg, idArg),
  call("resume", workflowArg, idArg),
  call("terminate", workflowArg, idArg),
  call("restart", workflowArg, idArg),
  call("sendEvent", workflowArg, idArg, fc.oneof(arb.eventType, anyArg), anyArg),
  call("createInstance", fc.oneof(arb.createBody, anyArg)),
);

/** Valid creates of MyWorkflow, one or a batch. */
const validCalls: fc.Arbitrary<Call> = fc.oneof(
  arb.validCreateBody.map(
    (options): Call => ({ method: "create", args: ["my-workflow", cloneable(options)], valid: true }),
  ),
  fc
    .array(arb.validCreateBody, { minLength: 1, maxLength: 3 })
    .map((batch): Call => ({ method: "createBatch", args: ["my-workflow", cloneable(batch)], valid: true })),
);

/** Well-formed ids a call names, as the instance it would create or touch. */
function namedIds(c: Call): string[] {
  const found: unknown[] = [];
  if (c.method === "create") found.push((c.args[1] as { instance_id?: unknown } | undefined)?.instance_id);
  else if (c.method === "createBatch" && Array.isArray(c.args[1]))
    for (const o of c.args[1]) found.push((o as { instance_id?: unknown } | null)?.instance_id);
  else if (c.method !== "createInstance" && c.method !== "listInstances") found.push(c.args[1]);
  return found.filter((v): v is string => typeof v === "string" && v.length <= 100 && INSTANCE_ID_PATTERN.test(v));
}

/** The params of each create a call asks for, as JSON. */
function paramsOf(c: Call): string[] {
  const options =
    c.method === "create" ? [c.args[1]] : c.method === "createBatch" && Array.isArray(c.args[1]) ? c.args[1] : [];
  const params = options.map((o) => (o && typeof o === "object" ? (o as { params?: unknown }).params : undefined));
  if (c.method === "createInstance") params.push(c.args[0]);
  return params.filter((p) => p !== undefined).map((p) => JSON.stringify(p));
}

async function instanceExists(binding: Workflow, id: string): Promise<boolean> {
  try {
    await (await binding.get(id)).status();
    return true;
  } catch {
    return false;
  }
}

function expectRpcResult(c: Call, result: RpcResult<unknown>): void {
  const label = `${c.method}(${JSON.stringify(c.args)?.slice(0, 300)}) -> ${JSON.stringify(result)?.slice(0, 300)}`;
  expect(typeof result === "object" && result !== null && typeof result.ok === "boolean", label).toBe(true);
  if (result.ok) {
    expect(Object.keys(result).sort(), label).toEqual(["ok", "result"]);
    return;
  }
  const { error } = result;
  expect(error.kind, label).not.toBe("internal");
  expect(error.status, label).toBeGreaterThanOrEqual(400);
  expect(error.status, label).toBeLessThan(500);
  expect(error.code, label).toBe(error.status * 100);
  expect(error.message, label).toBeTypeOf("string");
  expect(error.message, label).not.toMatch(/\n\s+at |node_modules/);
}

describe("WorkflowService (RPC) under random arguments", () => {
  it("always resolves to a 4xx-or-ok result, and refused calls never reach a binding", async () => {
    // Every registered workflow: a create anywhere is accounted for below.
    await using workflows = await introspectEveryWorkflow();
    const orders = workflows.each.find((w) => w.name === "my-workflow")!.introspector;
    await orders.modifyAll(async (m) => m.disableSleeps());
    // One live instance, so steering calls also meet an id that exists.
    const live = arb.freshId();
    const started = await service.create("my-workflow", { instance_id: live, params: largeOrder() as never });
    expect(started.ok).toBe(true);
    const created: Record<string, string[]> = Object.fromEntries(WORKFLOWS.map((w) => [w.name, []]));
    created["my-workflow"]!.push(live);
    // The params of refused creates: no instance may have started with any of them.
    const refusedParams = new Set<string>();
    let validSent = 0;

    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: calls }, validCalls), fc.boolean(), async (c, aimAtLive) => {
        if (
          aimAtLive &&
          c.args.length > 1 &&
          !["create", "createBatch", "createInstance", "listInstances"].includes(c.method)
        ) {
          c.args[0] = "my-workflow";
          c.args[1] = live;
        }
        const stub = service as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
        const outcome = await stub[c.method]!(...c.args);

        let ok: boolean;
        if (c.method === "createInstance") {
          const res = outcome as Response;
          expect(res.status, JSON.stringify(c.args).slice(0, 300)).toBeLessThan(500);
          const body = await res.json();
          if (res.status === 200)
            expect(body).toMatchObject({ id: expect.any(String), details: { status: expect.any(String) } });
          else expectEnvelope(res.status, body);
          ok = res.status === 200;
          if (ok) created["my-workflow"]!.push((body as { id: string }).id);
        } else {
          const result = outcome as RpcResult<unknown>;
          expectRpcResult(c, result);
          ok = result.ok;
          if (c.valid) {
            validSent++;
            expect(result, `${c.method}(${JSON.stringify(c.args).slice(0, 300)})`).toMatchObject({ ok: true });
          }
          if (ok && (c.method === "create" || c.method === "createBatch")) {
            const made = (result as { result: { id: string } | { id: string }[] }).result;
            created[c.args[0] as string]?.push(...(Array.isArray(made) ? made : [made]).map((m) => m.id));
          }
        }
        if (!ok) {
          for (const params of paramsOf(c)) refusedParams.add(params);
          for (const id of namedIds(c).filter((id) => id !== live)) {
            for (const w of WORKFLOWS) {
              expect(await instanceExists(bindingOf(env, w), id), `${c.method}: ${w.name}/${id}`).toBe(false);
            }
          }
        }
      }),
      { numRuns: 200 },
    );

    // Valid creates were made, every one succeeded (checked above), and created instances.
    expect(validSent).toBeGreaterThan(10);
    expect(created["my-workflow"]!.length).toBeGreaterThan(validSent);
    for (const { name: workflow, introspector, binding } of workflows.each) {
      const started = await startedIds(introspector);
      // Each successful create started exactly one instance...
      for (const id of created[workflow]!)
        expect(
          started.filter((s) => s === id),
          `${workflow}/${id}`,
        ).toHaveLength(1);
      // ...and no instance started with the params of a refused call.
      const ours = new Set(created[workflow]);
      for (const id of started.filter((s) => !ours.has(s))) {
        expect(refusedParams.has(JSON.stringify(await startedParams(binding, id))), `${workflow}/${id}`).toBe(false);
      }
    }
  }, 60_000);
});
