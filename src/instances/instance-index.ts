import { DurableObject } from "cloudflare:workers";
import { InstanceError } from "../shared/errors";
import type { Milestone, MilestoneReport } from "../shared/milestones";
import { bindingOf, findWorkflow } from "../workflows/declaration";
import type { Trigger } from "../workflows/instance-records";
import { mapPlatformError } from "../workflows/platform-errors";
import { afterReport, GONE_STATUS, isDue, MAX_MISSES, nextSettle, SETTLE_BATCH } from "./freshness";
import { migrate } from "./index-schema";
import { boundReport, MAX_MILESTONES } from "./progress";
import { oldestEnd, PRUNE_EVERY_MS, type PruneResult, pruneEnded, retentionMs } from "./retention";
import { ENDED_STATUSES, isEnded } from "./statuses";

export interface IndexRow {
  id: string;
  trigger: Trigger;
  status: InstanceStatus["status"];
  created_on: string;
  modified_on: string;
  ended_on: string | null;
}

/** An instance's row (null if no creating path recorded it) and the milestones it reported. */
export interface IndexDetails {
  row: IndexRow | null;
  milestones: Milestone[];
}

/** What a workflow's REST description needs from its index: one lookup each, whatever the number of rows. */
export interface IndexSummary {
  /** Rows by status (kept counts, not a scan). */
  instances: Partial<Record<string, number>>;
  /** When the index first recorded an instance of the workflow (ISO 8601), or null. */
  created_on: string | null;
  /** When its newest instance was created, or null. */
  triggered_on: string | null;
}

/** Times the platform's history gives an instance, for a row recorded when it is first read. */
export interface RunTimes {
  created_on?: string | null;
  ended_on?: string | null;
}

export interface IndexQuery {
  status?: InstanceStatus["status"];
  page: number;
  per_page: number;
  /** Continue after this position (from a previous page's `cursor`); `page` is then ignored. */
  after?: number;
  direction: "asc" | "desc";
  /** Instants in ISO 8601 as Date#toISOString writes them (UTC, milliseconds), as stored. */
  date_start?: string;
  date_end?: string;
}

export interface IndexPage {
  rows: IndexRow[];
  total: number;
  /** Position of the last row returned, when more rows follow it. */
  next?: number;
  /** How many statuses this listing read from the binding (at most `per_page`). */
  reads: number;
}

type StoredRow = IndexRow & { seq: number; checked_at: number; recheck: number; gone_at: number | null };

const COLUMNS = "id, trigger, status, created_on, modified_on, ended_on";
const STORED = `seq, ${COLUMNS}, checked_at, recheck, gone_at`;
const ENDED_SQL = `(${ENDED_STATUSES.map((s) => `'${s}'`).join(", ")})`;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The record of every instance of one workflow (one object per workflow name), in the
 * Durable Object's SQLite storage (schema: ./index-schema.ts). The Workflows binding cannot
 * list instances, so every path that starts one records it here, once: `record` ignores an
 * id it already holds, so a retried step or a redelivered message records nothing twice.
 *
 * Statuses come from what the Worker sees (creates, its own status changes, reads, the
 * milestones instances report), from this object's alarm for statuses in passing, and, for
 * the rows of a listed page only, from the binding once they are due: see ./freshness.ts.
 * A listing therefore costs one page of work, whatever the number of live instances.
 *
 * The alarm also deletes the rows and milestones of instances that ended longer ago than
 * the retention period (./retention.ts), so the index does not grow without bound.
 *
 * Methods that take `now` (ms since the epoch) act as if at that time; only tests pass it.
 */
export class InstanceIndex extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** When the alarm is set for (null: not set); looked up once per object, then kept here. */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage);
  }

  /**
   * Records instances of `workflow`; ids already recorded are left as they are. Returns how
   * many were new. An instance that reported milestones before it was recorded (a parent's
   * child) starts from what its latest one says.
   */
  async record(
    workflow: string,
    entries: ({ id: string; trigger: Trigger; status: string } & RunTimes)[],
    now = Date.now(),
  ): Promise<number> {
    this.remember(workflow);
    const at = iso(now);
    let added = 0;
    let settle: number | null = null;
    for (const entry of entries) {
      const reported = this.sql
        .exec("SELECT json_extract(milestones, '$[#-1].type') AS type FROM progress WHERE id = ?", entry.id)
        .toArray()[0]?.type as string | undefined;
      const effect = reported ? afterReport(entry.status, reported) : "same";
      const status = typeof effect === "object" ? effect.status : entry.status;
      // A row recorded without knowing its status (a create refused because the id exists)
      // is read soon; a new instance's status moves with its own reports, or when listed.
      const settleAt = status === GONE_STATUS ? nextSettle(status, now) : null;
      const inserted = this.sql.exec(
        `INSERT INTO instances (id, trigger, status, created_on, modified_on, ended_on, checked_at, settle_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        entry.id,
        entry.trigger,
        status,
        entry.created_on ?? at,
        at,
        isEnded(status) ? (entry.ended_on ?? at) : null,
        now,
        settleAt,
      ).rowsWritten;
      if (inserted > 0) {
        added++;
        if (settleAt !== null) settle = settleAt;
        if (isEnded(status)) await this.schedulePrune(now);
      }
    }
    if (settle !== null) await this.wake(settle);
    return added;
  }

  /**
   * Stores the status an instance has right after a change made through the core (pause,
   * resume, terminate, restart). A status in passing (`waitingForPause`, `queued`) is
   * followed up by the alarm until it settles.
   */
  async setStatus(id: string, status: string, now = Date.now()): Promise<void> {
    await this.store(id, status, now, { follow: true });
  }

  get(id: string): IndexRow | null {
    return (
      (this.sql.exec(`SELECT ${COLUMNS} FROM instances WHERE id = ?`, id).toArray()[0] as unknown as
        | IndexRow
        | undefined) ?? null
    );
  }

  /**
   * What `GET .../instances/:id` needs from the index, in one call: stores the status the
   * caller has just read from the binding, then returns the row and the milestones. An
   * instance the binding knows and the index lacks (its record was lost, or it was created
   * outside the Worker) is recorded here, started by `unknown`, with the times its history gives.
   */
  async details(
    workflow: string,
    id: string,
    status: string,
    times: RunTimes = {},
    now = Date.now(),
  ): Promise<IndexDetails> {
    // The write is a by-product of the read: if storage refuses it, the caller still gets
    // what the index holds (the binding's own answer is what the read is for).
    try {
      if (!(await this.store(id, status, now))) {
        await this.record(workflow, [{ id, trigger: "unknown", status, ...times }], now);
      }
    } catch (error) {
      console.error(`index: status ${status} of ${workflow}/${id} not stored`, error);
    }
    return { row: this.get(id), milestones: this.milestones(id) };
  }

  /** Counts by status and the first and latest creation: a few indexed lookups. */
  summary(): IndexSummary {
    const instances: Record<string, number> = {};
    for (const row of this.sql.exec("SELECT status, n FROM status_counts WHERE n > 0").toArray()) {
      instances[row.status as string] = row.n as number;
    }
    const at = (order: "ASC" | "DESC") =>
      (this.sql.exec(`SELECT created_on FROM instances ORDER BY seq ${order} LIMIT 1`).toArray()[0]?.created_on as
        | string
        | undefined) ?? null;
    const since = this.sql.exec("SELECT value FROM meta WHERE key = 'created_on'").toArray()[0]?.value as
      | string
      | undefined;
    // The earlier of when this object first recorded and its oldest row (an index older than the record of it).
    const first = [since, at("ASC")].filter((t): t is string => t !== null && t !== undefined).sort()[0];
    return { instances, created_on: first ?? null, triggered_on: at("DESC") };
  }

  milestones(id: string): Milestone[] {
    const found = this.sql.exec("SELECT milestones FROM progress WHERE id = ?", id).toArray()[0];
    return found ? (JSON.parse(found.milestones as string) as Milestone[]) : [];
  }

  /**
   * Appends a milestone, stamped with the time it is recorded, and moves the instance's
   * status as the report says (see afterReport in ./freshness.ts). A step reported again
   * means the run went back to it (a restart, a restart from a step, a step retried after
   * its report was stored): that milestone and every later one are dropped first, so the
   * log is always the current run's.
   */
  async recordMilestone(id: string, report: MilestoneReport, now = Date.now()): Promise<Milestone[]> {
    const milestone: Milestone = { ...boundReport(report), at: iso(now) };
    let log = this.milestones(id);
    const seen = log.findIndex((m) => m.step === milestone.step);
    if (seen !== -1) log = log.slice(0, seen);
    log = [...log, milestone].slice(-MAX_MILESTONES);
    this.sql.exec(
      `INSERT INTO progress (id, milestones, updated_at, ended_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (id) DO UPDATE SET milestones = ?2, updated_at = ?3, ended_at = ?4`,
      id,
      JSON.stringify(log),
      milestone.at,
      milestone.type === "progress" ? null : milestone.at,
    );
    const row = this.sql.exec("SELECT status FROM instances WHERE id = ?", id).toArray()[0];
    if (row) {
      const effect = afterReport(row.status as string, milestone.type);
      if (effect === "recheck") this.sql.exec("UPDATE instances SET recheck = 1 WHERE id = ?", id);
      else await this.store(id, effect === "same" ? (row.status as string) : effect.status, now);
    } else if (milestone.type !== "progress") {
      await this.schedulePrune(now);
    }
    return log;
  }

  /** Drops the milestones recorded before `before` (ISO 8601): those of a run that was restarted. */
  clearMilestones(id: string, before: string): void {
    const log = this.milestones(id);
    const kept = log.filter((m) => m.at >= before);
    if (kept.length === log.length) return;
    if (kept.length === 0) {
      this.sql.exec("DELETE FROM progress WHERE id = ?", id);
      return;
    }
    const last = kept.at(-1)!;
    this.sql.exec(
      "UPDATE progress SET milestones = ?, ended_at = ? WHERE id = ?",
      JSON.stringify(kept),
      last.type === "progress" ? null : last.at,
      id,
    );
  }

  /**
   * One page of the workflow's instances. The rows of that page that are due (./freshness.ts)
   * are read from the binding first, so a listing reads at most `per_page` statuses.
   */
  async list(workflow: string, query: IndexQuery, now = Date.now()): Promise<IndexPage> {
    this.remember(workflow);
    let rows = this.page(query);
    const due = rows.slice(0, query.per_page).filter((row) => isDue(row, now));
    // The page again, without reading more: a row whose status changed may have left the
    // filter (and the next row taken its place), and rows show their new status.
    if (due.length && (await this.readStatuses(workflow, due, now))) rows = this.page(query);
    const more = rows.length > query.per_page;
    const shown = rows.slice(0, query.per_page);
    // An index holding ended rows from before this object started gets its alarm here.
    if (this.alarmAt === undefined) await this.schedulePrune(now);
    return {
      rows: shown.map(({ id, trigger, status, created_on, modified_on, ended_on }) => ({
        id,
        trigger,
        status,
        created_on,
        modified_on,
        ended_on,
      })),
      total: this.total(query),
      reads: due.length,
      ...(more ? { next: shown[shown.length - 1]!.seq } : {}),
    };
  }

  /**
   * Deletes the rows and milestones of instances that ended (or went) before `now` minus
   * the retention period, at most PRUNE_BATCH of them, and the milestone logs of unrecorded
   * instances whose last report (complete or error) is that old. Nothing else.
   */
  prune(now = Date.now()): PruneResult {
    return pruneEnded(this.sql, now - retentionMs(this.env));
  }

  /**
   * The alarm: reads the statuses in passing that are due (at most SETTLE_BATCH), prunes
   * what passed the retention period, and sets itself for the next of either.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.alarmAt = null;
    const settling = this.sql
      .exec(
        `SELECT ${STORED}, settle_at FROM instances WHERE settle_at IS NOT NULL AND settle_at <= ?
         ORDER BY settle_at LIMIT ?`,
        now,
        SETTLE_BATCH + 1,
      )
      .toArray() as unknown as (StoredRow & { settle_at: number })[];
    const workflow = this.sql.exec("SELECT value FROM meta WHERE key = 'workflow'").toArray()[0]?.value as
      | string
      | undefined;
    if (workflow && settling.length) await this.readStatuses(workflow, settling.slice(0, SETTLE_BATCH), now);
    const pruned = this.prune(now);
    // The rest of a backlog: prunes at once; reads a second later (at most SETTLE_BATCH a second).
    if (pruned.more) await this.wake(now);
    if (settling.length > SETTLE_BATCH) await this.wake(now + 1000);
    const next = this.sql.exec("SELECT MIN(settle_at) AS t FROM instances WHERE settle_at IS NOT NULL").one().t;
    if (next !== null) await this.wake(next as number);
    await this.schedulePrune(now, true);
  }

  /** The page's rows (one more than asked: it tells whether another page follows). */
  private page(query: IndexQuery): StoredRow[] {
    const { filter, args } = this.where(query);
    const order = query.direction === "asc" ? "ASC" : "DESC";
    let page = filter;
    const pageArgs: (string | number)[] = [...args];
    if (query.after !== undefined) {
      page = `${filter ? `${filter} AND` : "WHERE"} seq ${order === "ASC" ? ">" : "<"} ?`;
      pageArgs.push(query.after);
    }
    const offset = query.after !== undefined ? 0 : (query.page - 1) * query.per_page;
    return this.sql
      .exec(
        `SELECT ${STORED} FROM instances ${page} ORDER BY seq ${order} LIMIT ? OFFSET ?`,
        ...pageArgs,
        query.per_page + 1,
        offset,
      )
      .toArray() as unknown as StoredRow[];
  }

  /** Rows matching the filter: kept counts without dates; a count of the range with them. */
  private total(query: IndexQuery): number {
    if (!query.date_start && !query.date_end) {
      const counted = query.status
        ? this.sql.exec("SELECT n FROM status_counts WHERE status = ?", query.status).toArray()[0]?.n
        : this.sql.exec("SELECT SUM(n) AS n FROM status_counts").one().n;
      return (counted as number | null | undefined) ?? 0;
    }
    const { filter, args } = this.where(query);
    return this.sql.exec(`SELECT COUNT(*) AS n FROM instances ${filter}`, ...args).one().n as number;
  }

  private where(query: IndexQuery): { filter: string; args: string[] } {
    const where: string[] = [];
    const args: string[] = [];
    if (query.status) {
      where.push("status = ?");
      args.push(query.status);
    }
    if (query.date_start) {
      where.push("created_on >= ?");
      args.push(query.date_start);
    }
    if (query.date_end) {
      where.push("created_on <= ?");
      args.push(query.date_end);
    }
    return { filter: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
  }

  /**
   * Reads the rows' statuses from the binding, all at once (at most a page, or an alarm's
   * batch), and stores what it learned. Returns whether any row's status changed.
   */
  private async readStatuses(
    workflow: string,
    rows: (StoredRow & { settle_at?: number | null })[],
    now: number,
  ): Promise<boolean> {
    const declared = findWorkflow(workflow);
    if (!declared) throw new Error(`unknown workflow ${workflow}`);
    const binding = bindingOf(this.env, declared);
    const results = await Promise.all(
      rows.map(async (row) => {
        try {
          return { row, status: (await (await binding.get(row.id)).status()).status as string };
        } catch (error) {
          const mapped = mapPlatformError(error, workflow, row.id);
          return { row, missing: mapped instanceof InstanceError && mapped.kind === "not_found" };
        }
      }),
    );
    let changed = false;
    for (const { row, status, missing } of results) {
      // Read by the alarm: the delay before this read (the next one doubles it).
      const previous = row.settle_at ? row.settle_at - row.checked_at : undefined;
      // A row the alarm follows up keeps being followed up after a failed read.
      const retry = row.settle_at ? nextSettle(GONE_STATUS, now, now, previous) : null;
      if (status !== undefined) {
        changed ||= status !== row.status;
        await this.store(row.id, status, now, row.settle_at ? { follow: true, previous } : undefined);
      } else if (missing) {
        // Gone after MAX_MISSES reads in a row: status `unknown`, never read again.
        const gone = this.sql
          .exec(
            `UPDATE instances SET misses = misses + 1, checked_at = ?1, recheck = 0,
               settle_at = CASE WHEN misses + 1 >= ?2 THEN NULL ELSE COALESCE(?6, settle_at) END,
               gone_at = CASE WHEN misses + 1 >= ?2 THEN ?1 ELSE NULL END,
               modified_on = CASE WHEN misses + 1 >= ?2 THEN ?3 ELSE modified_on END,
               status = CASE WHEN misses + 1 >= ?2 THEN ?4 ELSE status END
             WHERE id = ?5 RETURNING gone_at, settle_at`,
            now,
            MAX_MISSES,
            iso(now),
            GONE_STATUS,
            row.id,
            retry,
          )
          .toArray()[0];
        if (gone?.gone_at != null) {
          changed = true;
          await this.schedulePrune(now);
        } else if (retry !== null) await this.wake(retry);
      } else {
        // Another failure (the binding unreachable for a moment): try again when due.
        this.sql.exec(
          "UPDATE instances SET checked_at = ?, settle_at = COALESCE(?, settle_at) WHERE id = ?",
          now,
          retry,
          row.id,
        );
        if (retry !== null) await this.wake(retry);
      }
    }
    return changed;
  }

  /**
   * Stores a status known at `now`: a fresh fact, so the row is not due, is known to exist.
   * With `follow`, a status in passing is read again by the alarm (after `previous` doubled,
   * or a second); without, a row being followed keeps its schedule until it settles.
   * Returns whether the index holds the id.
   */
  private async store(
    id: string,
    status: string,
    now: number,
    settle?: { follow: true; previous?: number },
  ): Promise<boolean> {
    const found = this.sql
      .exec(
        `UPDATE instances SET
           modified_on = CASE WHEN status = ?1 THEN modified_on ELSE ?2 END,
           ended_on = CASE WHEN ?1 IN ${ENDED_SQL} THEN COALESCE(ended_on, ?2) ELSE NULL END,
           status = ?1,
           checked_at = ?3,
           misses = 0,
           recheck = 0,
           gone_at = NULL
         WHERE id = ?4 RETURNING modified_on, settle_at`,
        status,
        iso(now),
        now,
        id,
      )
      .toArray()[0];
    if (!found) return false;
    const since = Date.parse(found.modified_on as string);
    const settleAt = settle || found.settle_at !== null ? nextSettle(status, now, since, settle?.previous) : null;
    const keep = !settle && settleAt !== null;
    if (!keep && settleAt !== found.settle_at) {
      this.sql.exec("UPDATE instances SET settle_at = ? WHERE id = ?", settleAt, id);
      if (settleAt !== null) await this.wake(settleAt);
    }
    // Just ended (its status changed now): the alarm must come to prune it one day.
    if (isEnded(status) && found.modified_on === iso(now)) await this.schedulePrune(now);
    return true;
  }

  /** Keeps the workflow's name, which the alarm needs to read statuses. */
  private remember(workflow: string): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('workflow', ?) ON CONFLICT (key) DO NOTHING", workflow);
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('created_on', ?) ON CONFLICT (key) DO NOTHING",
      new Date().toISOString(),
    );
  }

  /** Sets the alarm for `at`, unless it is already set for no later. */
  private async wake(at: number): Promise<void> {
    this.alarmAt ??= await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /**
   * Makes sure the alarm comes when the oldest ended instance (or milestone log) passes the
   * retention period, or now if that has passed. After an alarm, no sooner than
   * PRUNE_EVERY_MS: what is that old may not be prunable (a log of a live instance).
   */
  private async schedulePrune(now: number, afterAlarm = false): Promise<void> {
    const oldest = oldestEnd(this.sql);
    if (oldest === undefined) {
      this.alarmAt ??= await this.ctx.storage.getAlarm();
      return;
    }
    const due = oldest + retentionMs(this.env);
    await this.wake(Math.max(due, afterAlarm ? now + PRUNE_EVERY_MS : now));
  }
}
