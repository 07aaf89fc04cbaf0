import { introspectWorkflow, type WorkflowIntrospector } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { bindingOf } from "../../src/workflows/declaration";
import { WORKFLOWS } from "../../src/workflows/registry";

/**
 * What the platform started while an introspector was active, by id. Test files share
 * one runtime, so instances of other files (a parent's children, a schedule)
 * can start meanwhile too: tests attribute instances by id and params, never by count.
 */
export async function startedIds(introspector: WorkflowIntrospector): Promise<string[]> {
  // The handles carry their instance id; the plugin's types do not declare it.
  return (await introspector.get()).map((handle) => (handle as unknown as { instanceId: string }).instanceId);
}

/** The params an instance was started with, from its recorded `workflow_started` event. */
export async function startedParams(binding: Workflow, id: string): Promise<unknown> {
  const instance = await binding.get(id);
  using subscription = await instance.subscribe({ filter: ["workflow_started"] });
  const next = await subscription.next();
  return next.done ? undefined : (next.value as { params?: unknown }).params;
}

/** An introspector on every registered workflow's binding, by name; disposing it disposes them all. */
export async function introspectEveryWorkflow() {
  const each = await Promise.all(
    WORKFLOWS.map(async (w) => {
      const binding = bindingOf(env, w);
      return { name: w.name, binding, introspector: await introspectWorkflow(binding) };
    }),
  );
  return {
    each,
    async [Symbol.asyncDispose]() {
      for (const { introspector } of each) await introspector[Symbol.asyncDispose]();
    },
  };
}
