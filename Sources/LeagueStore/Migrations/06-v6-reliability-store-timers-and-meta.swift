import GRDB
import LeagueCore

extension Migrations {
    static let m06_v6_reliability_store_timers_and_meta = Migration(name: "v6-reliability-store-timers-and-meta") { db in
        // A timer whose handler fails is retried with backoff instead of being marked fired
        // (attempts, last_error; first_due_at keeps the time it was due, for its handler); a timer
        // that can never fire is put aside with its reason (dead_reason, fired_at set).
        // store_meta keeps facts about the file itself (which program has written to it).
        try db.execute(
            sql: """
                ALTER TABLE timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE timers ADD COLUMN last_error TEXT;
                ALTER TABLE timers ADD COLUMN first_due_at REAL;
                ALTER TABLE timers ADD COLUMN dead_reason TEXT;
                CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                """)
    }
}
