import { getAgentByName } from "agents";
import { z } from "zod";
import type { OriginReport, OriginSplitter } from "../workflows/run-origin";

/**
 * How a workflow started by the WorkflowScheduler Agent reports back to it.
 *
 * The agents SDK's `runWorkflow` adds the originating Agent to the instance params
 * (`__agentName`, `__agentBinding`, `__workflowName`, `__agentOrigin`). Params schemas are
 * strict, so src/index.ts registers `splitAgentOrigin` with the workflows' hooks
 * (src/workflows/run-origin.ts): every workflow has those keys split off before it validates its
 * params, and its milestones delivered to the Agent through `reportToAgent`.
 */

const ORIGIN_KEYS = ["__agentName", "__agentBinding", "__workflowName", "__agentOrigin"] as const;

const Origin = z.object({
  __agentName: z.string().min(1),
  __agentBinding: z.string().min(1),
  __workflowName: z.string().min(1),
});

/** The Agent that started an instance, by name. */
export interface AgentOrigin {
  agent: string;
  binding: string;
  /** The workflow's binding name, as the Agent tracks it. */
  workflow: string;
}

export type WorkflowReport = OriginReport & {
  /**
   * When the workflow made the report (ms since the epoch), set by reportToAgent inside
   * the report's step. It tells the Agent a late report of a finished run from the
   * first report of a new run (a restart).
   */
  at?: number;
};

/** Splits the SDK's origin keys off instance params. Pure, so safe outside a step. */
export const splitAgentOrigin: OriginSplitter = (payload) => {
  const found = Origin.safeParse(payload);
  if (!found.success) return undefined;
  const params = { ...payload };
  for (const key of ORIGIN_KEYS) delete params[key];
  const { __agentName, __agentBinding, __workflowName } = found.data;
  const origin: AgentOrigin = { agent: __agentName, binding: __agentBinding, workflow: __workflowName };
  return { params, origin: { deliver: (env, instanceId, report) => reportToAgent(env, origin, instanceId, report) } };
};

/**
 * Delivers one report. Called inside a `step.do`, so a replay does not send it
 * again. Reports are best effort: an unreachable Agent must not fail the order, so
 * failures are logged and returned instead of thrown (and retried), and the Agent's
 * cron status refresh catches up with whatever it missed.
 */
export async function reportToAgent(env: Env, origin: AgentOrigin, instanceId: string, report: OriginReport) {
  if (origin.binding !== "WORKFLOW_SCHEDULER") {
    return { delivered: false, reason: `no reports for agent binding ${origin.binding}` };
  }
  try {
    const agent = await getAgentByName(env.WORKFLOW_SCHEDULER, origin.agent);
    await agent.handleWorkflowReport(origin.workflow, instanceId, { ...report, at: Date.now() });
    return { delivered: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`report ${report.type} of ${instanceId} to agent ${origin.agent} failed: ${reason}`);
    return { delivered: false, reason };
  }
}
