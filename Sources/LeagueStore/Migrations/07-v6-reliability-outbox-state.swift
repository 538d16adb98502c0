import GRDB
import LeagueCore

extension Migrations {
    static let m07_v6_reliability_outbox_state = Migration(name: "v6-reliability-outbox-state") { db in
        // Robot pauses (rate limited, circuit breaker open) and the sends of the last minutes, so
        // a restart keeps every robot's rate window and pause; the index finds recent dead letters;
        // `dropped_reason` marks a row settled without sending (state 'sent', never delivered):
        // a reminder for a task closed meanwhile, or one merged into a first notice still waiting.
        try db.execute(
            sql: """
                CREATE TABLE robot_pauses (
                    robot_id TEXT PRIMARY KEY,
                    platform TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('rate_limited', 'failing')),
                    until REAL NOT NULL,
                    seconds REAL NOT NULL,
                    since REAL NOT NULL,
                    failures INTEGER NOT NULL,
                    reason TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE robot_sends (
                    id INTEGER PRIMARY KEY,
                    robot_id TEXT NOT NULL,
                    platform TEXT NOT NULL,
                    at REAL NOT NULL
                );
                CREATE INDEX robot_sends_at ON robot_sends(at);
                CREATE INDEX outbox_dead ON outbox(sent_at) WHERE state = 'dead';
                ALTER TABLE outbox ADD COLUMN dropped_reason TEXT;
                """)
    }
}
