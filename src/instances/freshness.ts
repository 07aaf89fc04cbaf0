import { isEnded } from "./statuses";

/**
 * How the instance index keeps statuses current without reading every live instance.
 *
 * The Workflows binding cannot list instances nor tell anyone when one changes, so the
 * index learns statuses from what the Worker itself sees, as it happens:
 * - a create records the instance (`queued`);
 * - a status change made through the core (pause, resume, terminate, restart) stores the
 *   status read right after it, and so does every read of one instance (`GET .../:id`);
 * - every milestone an instance reports (src/instances/progress.ts) says it is running, or
 *   that it is about to end (`complete` -> complete, `error` -> errored).
 * A status in passing that a change made through the core answers with (`queued` after a
 * resume, `waitingForPause` after a pause, `rollingBack`) is followed up: the index's alarm
 * reads the instance again a second later, then after 2, 4, 8... seconds while it stays so,
 * for an hour at most (see `nextSettle`), at most SETTLE_BATCH reads a second.
 *
 * What it cannot see (a change made outside this Worker: `wrangler workflows`, the
 * dashboard, another script holding the binding) a listing catches up on, for the rows of
 * the page it returns only: each such row is read from the binding again once it is due
 * (see `isDue`). So a listing costs at most `per_page` binding reads, whatever the number
 * of live instances.
 */

/**
 * The status of a row whose status the index does not know: an instance the binding no
 * longer knows (see MAX_MISSES), or one recorded because a create of its id found it.
 */
export const GONE_STATUS = "unknown";

/** Statuses an instance passes through: the alarm follows such a row up (see `nextSettle`). */
const PASSING = ["queued", "waitingForPause", "rollingBack", GONE_STATUS];
export const SETTLE_FIRST_MS = 1_000;
const SETTLE_MAX_MS = 10 * 60_000;
const SETTLE_GIVE_UP_MS = 3600_000;
/** Rows the alarm reads per run, at most (it comes back a second later for the rest). */
export const SETTLE_BATCH = 50;

/**
 * When the alarm should read a row again, having just learned `status` at `now`, or null.
 * `since` is when the row took that status (ms); `previous` the last delay, if any.
 */
export function nextSettle(status: string, now: number, since = now, previous?: number): number | null {
  if (!PASSING.includes(status) || now - since >= SETTLE_GIVE_UP_MS) return null;
  return (
    now + (previous === undefined ? SETTLE_FIRST_MS : Math.min(SETTLE_MAX_MS, Math.max(SETTLE_FIRST_MS, previous * 2)))
  );
}

/** A row on a listed page is read again at most this often... */
export const RECHECK_MIN_MS = 5_000;
/** ...and at least this often while it is shown (a long-unchanged instance is read less often). */
export const RECHECK_MAX_MS = 5 * 60_000;
/** Between the two: a tenth of how long its status has been unchanged. */
const RECHECK_FRACTION = 0.1;

/**
 * Reads that found no such instance (`instance.not_found`: its retention passed, or it was
 * deleted outside this Worker) before the index marks it gone and stops reading it.
 */
export const MAX_MISSES = 3;

/** What the index holds about one row's freshness. */
export interface Freshness {
  status: string;
  /** When the index last learned the status (ms since the epoch). */
  checked_at: number;
  /** When the status last changed (ISO 8601). */
  modified_on: string;
  /** Set when a report contradicted the stored status: read it at the next listing. */
  recheck: number;
  /** Set once the binding no longer knows the instance: never read again. */
  gone_at: number | null;
}

/** Whether a listing that shows this row at `now` reads its status from the binding first. */
export function isDue(row: Freshness, now: number): boolean {
  if (row.gone_at !== null) return false;
  if (row.recheck) return true;
  if (isEnded(row.status)) return false;
  const unchanged = Math.max(0, row.checked_at - Date.parse(row.modified_on));
  const interval = Math.min(RECHECK_MAX_MS, Math.max(RECHECK_MIN_MS, unchanged * RECHECK_FRACTION));
  return now - row.checked_at >= interval;
}

/** Statuses a report moves on: an instance reports from inside a step it is running. */
const MOVED_BY_REPORTS = ["queued", "running", "waiting", "rollingBack", GONE_STATUS];

/**
 * What a milestone of `type` does to a row whose status is `current`: the status to store,
 * or `recheck` when the report contradicts a status the index holds for a reason (paused or
 * ended through this Worker: the report may have been sent just before; or the instance was
 * resumed or restarted outside it), so that the next listing showing it reads it.
 */
export function afterReport(current: string, type: string): { status: string } | "recheck" | "same" {
  const next = type === "complete" ? "complete" : type === "error" ? "errored" : "running";
  if (current === next) return "same";
  return MOVED_BY_REPORTS.includes(current) ? { status: next } : "recheck";
}
