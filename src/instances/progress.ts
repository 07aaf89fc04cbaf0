import type { MilestoneReport } from "../shared/milestones";

/**
 * Progress of an instance, kept server-side in the instance index (one Durable Object
 * per workflow, table `progress`), so every instance has it, however it was started
 * (any front or optional part, a parent, or the binding directly), and it
 * survives a page reload. The Workflows binding gives status, output and error only:
 * a workflow reports its own milestones, each from inside a `step.do`
 * (src/workflows/progress-report.ts). The index bounds what it keeps with these rules.
 */

/** The newest milestones kept per instance (older ones are dropped). */
export const MAX_MILESTONES = 20;
export const MAX_STEP_CHARS = 100;
export const MAX_MESSAGE_CHARS = 500;

/** Bounds a report, so a long error message cannot grow the index. */
export function boundReport(report: MilestoneReport): MilestoneReport {
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}\u2026` : text);
  const percent = Number.isFinite(report.percent) ? Math.min(1, Math.max(0, report.percent)) : 0;
  return {
    step: clip(String(report.step), MAX_STEP_CHARS),
    percent,
    message: clip(String(report.message), MAX_MESSAGE_CHARS),
    type: report.type,
  };
}
