/**
 * How long the instance index keeps an instance after it ended: `INSTANCE_INDEX_RETENTION_DAYS`
 * in wrangler.jsonc `vars` (days, default 30). The index's alarm then deletes its row and its
 * milestones, so the index holds the live instances plus one period of ended ones, never
 * more. Keep it at least as long as the workflows' own retention of finished instances if
 * listings should show everything the platform still holds.
 */
export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 24 * 3600_000;

/** At most this many instances are pruned per alarm; the alarm comes back soon for the rest. */
export const PRUNE_BATCH = 500;
/** An alarm prunes at most this often while nothing is overdue (ends are pruned within this). */
export const PRUNE_EVERY_MS = 3600_000;

let warned = false;

/** The retention period in milliseconds, from the setting (a positive number of days). */
export function retentionMs(env: Env): number {
  // Typed as the literal in wrangler.jsonc; a deploy can override it with any text.
  const raw: string | undefined = env.INSTANCE_INDEX_RETENTION_DAYS;
  const days = raw === undefined || raw === "" ? DEFAULT_RETENTION_DAYS : Number(raw);
  if (Number.isFinite(days) && days > 0) return days * DAY_MS;
  if (!warned) {
    warned = true;
    console.warn(
      `INSTANCE_INDEX_RETENTION_DAYS must be a positive number of days, not ${JSON.stringify(raw)}: using ${DEFAULT_RETENTION_DAYS}`,
    );
  }
  return DEFAULT_RETENTION_DAYS * DAY_MS;
}
