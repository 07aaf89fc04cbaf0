/**
 * The instance index's SQLite schema, created or brought up to date when the object starts.
 * An index created by an earlier version of this code (an `instances` table without the
 * freshness columns, no `status_counts`) is migrated in place, once: test/listing covers it.
 *
 * - `instances`: one row per instance, in creation order (`seq`).
 * - `progress`: the milestones each instance reported (a JSON array, oldest first), and when
 *   it reported its end. A table
 *   of its own, keyed by id, because an instance can report before any creating path
 *   recorded it (a parent records its children after starting them) or without ever being
 *   recorded (created through the binding directly); a placeholder row would list it with a
 *   wrong trigger and creation time.
 * - `status_counts`: how many rows have each status, kept by triggers, so `total_count` of a
 *   listing with no date filter costs one lookup, not a count of every row.
 */
const SCHEMA_VERSION = 2;

const FRESHNESS_COLUMNS: Record<string, string> = {
  // Consecutive reads that found no such instance (see MAX_MISSES in freshness.ts).
  misses: "INTEGER NOT NULL DEFAULT 0",
  // 1 when a report contradicted the stored status (see afterReport in freshness.ts).
  recheck: "INTEGER NOT NULL DEFAULT 0",
  // When the binding stopped knowing the instance (ms); such a row is never read again.
  gone_at: "INTEGER",
  // When the alarm reads a status in passing again (ms; see nextSettle in freshness.ts).
  settle_at: "INTEGER",
};

export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  storage.transactionSync(() => {
    // meta: `schema` (the version below), `workflow` (the name this object indexes).
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL)");
    const found = sql.exec("SELECT value FROM meta WHERE key = 'schema'").toArray()[0];
    const version = found ? (found.value as number) : 0;

    sql.exec(`CREATE TABLE IF NOT EXISTS instances (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      trigger TEXT NOT NULL,
      status TEXT NOT NULL,
      created_on TEXT NOT NULL,
      modified_on TEXT NOT NULL,
      ended_on TEXT,
      checked_at INTEGER NOT NULL DEFAULT 0,
      ${Object.entries(FRESHNESS_COLUMNS)
        .map(([name, type]) => `${name} ${type}`)
        .join(",\n      ")}
    )`);
    // ended_at: when the instance reported `complete` or `error` (its last milestone), else null.
    sql.exec(`CREATE TABLE IF NOT EXISTS progress (
      id TEXT PRIMARY KEY,
      milestones TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      ended_at TEXT
    )`);
    sql.exec("CREATE TABLE IF NOT EXISTS status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL)");

    if (version < SCHEMA_VERSION) {
      const columns = new Set(
        sql
          .exec("PRAGMA table_info(instances)")
          .toArray()
          .map((c) => c.name as string),
      );
      for (const [name, type] of Object.entries(FRESHNESS_COLUMNS)) {
        if (!columns.has(name)) sql.exec(`ALTER TABLE instances ADD COLUMN ${name} ${type}`);
      }
      const progressColumns = sql.exec("PRAGMA table_info(progress)").toArray();
      if (!progressColumns.some((c) => c.name === "ended_at")) {
        sql.exec("ALTER TABLE progress ADD COLUMN ended_at TEXT");
        sql.exec(`UPDATE progress SET ended_at = updated_at
          WHERE json_extract(milestones, '$[#-1].type') IN ('complete', 'error')`);
      }
      sql.exec("DROP TRIGGER IF EXISTS count_insert");
      sql.exec("DROP TRIGGER IF EXISTS count_delete");
      sql.exec("DROP TRIGGER IF EXISTS count_update");
      sql.exec("DELETE FROM status_counts");
      sql.exec("INSERT INTO status_counts (status, n) SELECT status, COUNT(*) FROM instances GROUP BY status");
      sql.exec(
        "INSERT INTO meta (key, value) VALUES ('schema', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
        SCHEMA_VERSION,
      );
    }

    sql.exec("CREATE INDEX IF NOT EXISTS instances_status ON instances (status, seq)");
    // What the retention alarm looks for: what ended (or went) longest ago.
    sql.exec("CREATE INDEX IF NOT EXISTS instances_ended ON instances (ended_on) WHERE ended_on IS NOT NULL");
    sql.exec("CREATE INDEX IF NOT EXISTS instances_gone ON instances (gone_at) WHERE gone_at IS NOT NULL");
    sql.exec("CREATE INDEX IF NOT EXISTS instances_settle ON instances (settle_at) WHERE settle_at IS NOT NULL");
    sql.exec("CREATE INDEX IF NOT EXISTS progress_ended ON progress (ended_at) WHERE ended_at IS NOT NULL");
    const add = (row: string) =>
      `INSERT OR IGNORE INTO status_counts (status, n) VALUES (${row}.status, 0);
       UPDATE status_counts SET n = n + 1 WHERE status = ${row}.status;`;
    const remove = (row: string) => `UPDATE status_counts SET n = n - 1 WHERE status = ${row}.status;`;
    sql.exec(`CREATE TRIGGER IF NOT EXISTS count_insert AFTER INSERT ON instances BEGIN ${add("NEW")} END`);
    sql.exec(`CREATE TRIGGER IF NOT EXISTS count_delete AFTER DELETE ON instances BEGIN ${remove("OLD")} END`);
    sql.exec(`CREATE TRIGGER IF NOT EXISTS count_update AFTER UPDATE OF status ON instances
      WHEN OLD.status <> NEW.status BEGIN ${remove("OLD")} ${add("NEW")} END`);
  });
}
