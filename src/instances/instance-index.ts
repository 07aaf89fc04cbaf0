import { DurableObject } from "cloudflare:workers";
import { bindingFor } from "../workflows/registry";
import { boundReport, MAX_MILESTONES, type Milestone, type MilestoneReport } from "./progress";

/** How an instance was started. */
export const TRIGGERS = ["api", "rpc", "agent", "parent", "cron", "schedule", "queue", "unknown"] as const;
export type Trigger = (typeof TRIGGERS)[number];

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

export interface IndexQuery {
  status?: InstanceStatus["status"];
  page: number;
  per_page: number;
  /** Continue after this position (from a previous page's `cursor`); `page` is then ignored. */
  after?: number;
  direction: "asc" | "desc";
  date_start?: string;
  date_end?: string;
}

export interface IndexPage {
  rows: IndexRow[];
  total: number;
  /** Position of the last row returned, when more rows follow it. */
  next?: number;
}

const FINISHED = ["complete", "errored", "terminated"];
/** A status read this recently is not read again by a listing. */
const FRESH_MS = 1000;
const REFRESH_CONCURRENCY = 16;

/**
 * The record of every instance of one workflow (one object per workflow name), in
 * the Durable Object's SQLite storage. The Workflows binding cannot list instances,
 * so every path that starts one records it here, once: `record` ignores an id it
 * already holds, so a retried step or a redelivered message records nothing twice.
 *
 * Statuses are kept current at read time: a listing first re-reads, from the binding,
 * the status of every instance not yet finished (unless read in the last second).
 * That is O(unfinished instances) per listing: fine for thousands, not for millions.
 *
 * The milestones instances report (src/instances/progress.ts) live in a table of their
 * own, `progress`, keyed by instance id, not in columns of `instances`: an instance can
 * report before any creating path recorded it (a parent records its children after
 * starting them) or without ever being recorded (created through the binding directly),
 * and a placeholder row would list it with a wrong trigger and creation time. A new
 * table also needs no migration of existing state: `CREATE TABLE IF NOT EXISTS` adds it
 * to an index created before it existed (test/progress/progress.test.ts checks that).
 */
export class InstanceIndex extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS instances (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      trigger TEXT NOT NULL,
      status TEXT NOT NULL,
      created_on TEXT NOT NULL,
      modified_on TEXT NOT NULL,
      ended_on TEXT,
      checked_at INTEGER NOT NULL DEFAULT 0
    )`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS instances_status ON instances (status, seq)");
    // milestones: a JSON array of Milestone, oldest first, at most MAX_MILESTONES.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS progress (
      id TEXT PRIMARY KEY,
      milestones TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
  }

  /**
   * Records instances; ids already recorded are left as they are. Returns how many
   * were new. The status given is a first guess, re-read by the next listing.
   */
  record(entries: { id: string; trigger: Trigger; status: string }[]): number {
    const now = new Date().toISOString();
    let added = 0;
    for (const entry of entries) {
      added +=
        this.sql.exec(
          `INSERT INTO instances (id, trigger, status, created_on, modified_on, checked_at)
         VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (id) DO NOTHING`,
          entry.id,
          entry.trigger,
          entry.status,
          now,
          now,
        ).rowsWritten > 0
          ? 1
          : 0;
    }
    return added;
  }

  /** Stores a status the caller has just read from the binding. */
  setStatus(id: string, status: string): void {
    this.write(id, status, Date.now());
  }

  get(id: string): IndexRow | null {
    return (
      (this.sql.exec(`SELECT ${COLUMNS} FROM instances WHERE id = ?`, id).toArray()[0] as unknown as
        | IndexRow
        | undefined) ?? null
    );
  }

  /**
   * What `GET .../instances/:id` needs from the index, in one call: stores the status
   * the caller has just read from the binding, then returns the row and the milestones.
   */
  details(id: string, status: string): IndexDetails {
    this.write(id, status, Date.now());
    return { row: this.get(id), milestones: this.milestones(id) };
  }

  milestones(id: string): Milestone[] {
    const found = this.sql.exec("SELECT milestones FROM progress WHERE id = ?", id).toArray()[0];
    return found ? (JSON.parse(found.milestones as string) as Milestone[]) : [];
  }

  /**
   * Appends a milestone, stamped with the time it is recorded. A step reported again
   * means the run went back to it (a restart, a restart from a step, a step retried
   * after its report was stored): that milestone and every later one are dropped
   * first, so the log is always the current run's.
   */
  recordMilestone(id: string, report: MilestoneReport): Milestone[] {
    const milestone: Milestone = { ...boundReport(report), at: new Date().toISOString() };
    let log = this.milestones(id);
    const seen = log.findIndex((m) => m.step === milestone.step);
    if (seen !== -1) log = log.slice(0, seen);
    log = [...log, milestone].slice(-MAX_MILESTONES);
    this.sql.exec(
      `INSERT INTO progress (id, milestones, updated_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (id) DO UPDATE SET milestones = ?2, updated_at = ?3`,
      id,
      JSON.stringify(log),
      milestone.at,
    );
    return log;
  }

  /** Drops the milestones recorded before `before` (ISO 8601): those of a run that was restarted. */
  clearMilestones(id: string, before: string): void {
    const log = this.milestones(id);
    const kept = log.filter((m) => m.at >= before);
    if (kept.length === log.length) return;
    if (kept.length === 0) this.sql.exec("DELETE FROM progress WHERE id = ?", id);
    else this.sql.exec("UPDATE progress SET milestones = ? WHERE id = ?", JSON.stringify(kept), id);
  }

  async list(workflow: string, query: IndexQuery): Promise<IndexPage> {
    await this.refresh(workflow);
    const where: string[] = [];
    const args: (string | number)[] = [];
    const condition = (sql: string, arg: string) => {
      where.push(sql);
      args.push(arg);
    };
    if (query.status) condition("status = ?", query.status);
    if (query.date_start) condition("created_on >= ?", query.date_start);
    if (query.date_end) condition("created_on <= ?", query.date_end);
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const total = this.sql.exec(`SELECT COUNT(*) AS n FROM instances ${filter}`, ...args).one().n as number;

    const order = query.direction === "asc" ? "ASC" : "DESC";
    let page = filter;
    const pageArgs = [...args];
    if (query.after !== undefined) {
      page = `${filter ? `${filter} AND` : "WHERE"} seq ${order === "ASC" ? ">" : "<"} ?`;
      pageArgs.push(query.after);
    }
    const offset = query.after !== undefined ? 0 : (query.page - 1) * query.per_page;
    // One row more than asked tells whether another page follows.
    const rows = this.sql
      .exec(
        `SELECT seq, ${COLUMNS} FROM instances ${page} ORDER BY seq ${order} LIMIT ? OFFSET ?`,
        ...pageArgs,
        query.per_page + 1,
        offset,
      )
      .toArray() as unknown as (IndexRow & { seq: number })[];
    const more = rows.length > query.per_page;
    const shown = rows.slice(0, query.per_page);
    return {
      rows: shown.map(({ seq: _seq, ...row }) => row),
      total,
      ...(more ? { next: shown[shown.length - 1]!.seq } : {}),
    };
  }

  private async refresh(workflow: string): Promise<void> {
    const stale = this.sql
      .exec(
        `SELECT id FROM instances WHERE status NOT IN (${FINISHED.map(() => "?").join(",")}) AND checked_at < ?`,
        ...FINISHED,
        Date.now() - FRESH_MS,
      )
      .toArray()
      .map((r) => r.id as string);
    const binding = bindingFor(this.env, workflow);
    for (let i = 0; i < stale.length; i += REFRESH_CONCURRENCY) {
      await Promise.all(
        stale.slice(i, i + REFRESH_CONCURRENCY).map(async (id) => {
          const status = await binding
            .get(id)
            .then((instance) => instance.status())
            .then((s) => s.status)
            .catch(() => undefined);
          // An instance the binding no longer knows (retention passed) keeps its last status.
          if (status) this.write(id, status, Date.now());
        }),
      );
    }
  }

  private write(id: string, status: string, checkedAt: number): void {
    const now = new Date().toISOString();
    this.sql.exec(
      `UPDATE instances SET
         modified_on = CASE WHEN status = ?1 THEN modified_on ELSE ?2 END,
         ended_on = CASE WHEN ?1 IN ('complete', 'errored', 'terminated') THEN COALESCE(ended_on, ?2) ELSE NULL END,
         status = ?1,
         checked_at = ?3
       WHERE id = ?4`,
      status,
      now,
      checkedAt,
      id,
    );
  }
}

const COLUMNS = "id, trigger, status, created_on, modified_on, ended_on";
