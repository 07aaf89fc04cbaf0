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

export interface PruneResult {
  /** Rows of instances that ended (or went) before the cutoff, deleted. */
  instances: number;
  /** Milestone logs deleted: those of the rows above, and of unrecorded instances that ended. */
  milestones: number;
  /** Whether more remain past the cutoff (the alarm comes back at once). */
  more: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Deletes, from an instance index's storage (./index-schema.ts), the rows and milestones of
 * instances that ended (or went: see MAX_MISSES in ./freshness.ts) before `cutoff` (ms), at
 * most PRUNE_BATCH of them, and the milestone logs of unrecorded instances whose last report
 * (complete or error) is that old. Nothing else.
 */
export function pruneEnded(sql: SqlStorage, cutoff: number): PruneResult {
  const ids = sql
    .exec(
      `SELECT id FROM (SELECT id FROM instances WHERE ended_on IS NOT NULL AND ended_on < ?1 LIMIT ?3)
       UNION SELECT id FROM (SELECT id FROM instances WHERE gone_at IS NOT NULL AND gone_at < ?2 LIMIT ?3)`,
      iso(cutoff),
      cutoff,
      PRUNE_BATCH + 1,
    )
    .toArray()
    .map((r) => r.id as string);
  const batch = ids.slice(0, PRUNE_BATCH);
  let milestones = 0;
  for (const id of batch) {
    milestones += sql.exec("DELETE FROM progress WHERE id = ?", id).rowsWritten;
    sql.exec("DELETE FROM instances WHERE id = ?", id);
  }
  const orphans = sql
    .exec(
      `SELECT id FROM progress WHERE ended_at IS NOT NULL AND ended_at < ?1
         AND NOT EXISTS (SELECT 1 FROM instances WHERE instances.id = progress.id)
       LIMIT ?2`,
      iso(cutoff),
      PRUNE_BATCH + 1,
    )
    .toArray()
    .map((r) => r.id as string);
  for (const id of orphans.slice(0, PRUNE_BATCH)) {
    milestones += sql.exec("DELETE FROM progress WHERE id = ?", id).rowsWritten;
  }
  return { instances: batch.length, milestones, more: ids.length > PRUNE_BATCH || orphans.length > PRUNE_BATCH };
}

/** When the longest-ended instance (or unrecorded milestone log) ended, in ms; none: undefined. */
export function oldestEnd(sql: SqlStorage): number | undefined {
  const ended = sql
    .exec(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(ended_on) AS t FROM instances WHERE ended_on IS NOT NULL
         UNION ALL SELECT MIN(ended_at) FROM progress WHERE ended_at IS NOT NULL)`,
    )
    .one().t as string | null;
  const gone = sql.exec("SELECT MIN(gone_at) AS t FROM instances WHERE gone_at IS NOT NULL").one().t as number | null;
  const ends = [ended === null ? undefined : Date.parse(ended), gone ?? undefined].filter(
    (t): t is number => t !== undefined,
  );
  return ends.length ? Math.min(...ends) : undefined;
}
