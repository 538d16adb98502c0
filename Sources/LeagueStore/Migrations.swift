import Foundation
import GRDB
import LeagueCore

/// The schema. Migrations are append-only: never edit one that has shipped; add the next.
enum Migrations {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.execute(sql: """
                CREATE TABLE inbound (
                    id INTEGER PRIMARY KEY,
                    platform TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    chat TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    text TEXT NOT NULL,
                    sent_at REAL NOT NULL,
                    received_at REAL NOT NULL,
                    mentions_bot INTEGER NOT NULL DEFAULT 0,
                    processed_at REAL,
                    UNIQUE (platform, message_id)
                );
                CREATE INDEX inbound_unprocessed ON inbound(id) WHERE processed_at IS NULL;

                CREATE TABLE tasks (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('dispatch', 'report')),
                    urgent INTEGER NOT NULL,
                    text TEXT NOT NULL,
                    issuer_id TEXT NOT NULL,
                    issuer_name TEXT NOT NULL,
                    issuer_unit TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    target_seconds REAL NOT NULL CHECK (target_seconds > 0),
                    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
                    closed_at REAL,
                    closed_by TEXT,
                    close_note TEXT,
                    claimed_by TEXT,
                    claimed_unit TEXT,
                    claimed_at REAL
                );
                CREATE INDEX tasks_open_issuer ON tasks(issuer_unit) WHERE status = 'open';

                CREATE TABLE task_targets (
                    task_id INTEGER NOT NULL REFERENCES tasks(id),
                    unit_id TEXT NOT NULL,
                    acknowledged_at REAL,
                    acknowledged_by TEXT,
                    told TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (task_id, unit_id)
                ) WITHOUT ROWID;
                CREATE INDEX targets_waiting ON task_targets(unit_id, task_id) WHERE acknowledged_at IS NULL;

                CREATE TABLE escalations (
                    task_id INTEGER NOT NULL REFERENCES tasks(id),
                    step INTEGER NOT NULL,
                    at REAL NOT NULL,
                    notified TEXT NOT NULL,
                    late TEXT NOT NULL,
                    PRIMARY KEY (task_id, step)
                ) WITHOUT ROWID;

                CREATE TABLE timers (
                    key TEXT PRIMARY KEY,
                    due_at REAL NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    step INTEGER NOT NULL,
                    fired_at REAL
                ) WITHOUT ROWID;
                CREATE INDEX timers_due ON timers(due_at) WHERE fired_at IS NULL;

                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    unit_id TEXT NOT NULL,
                    platform TEXT NOT NULL,
                    chat TEXT NOT NULL,
                    robot_id TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    created_at REAL NOT NULL,
                    sent_at REAL,
                    last_error TEXT
                );
                CREATE INDEX outbox_pending ON outbox(next_attempt_at, priority) WHERE state = 'pending';

                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    at REAL NOT NULL,
                    kind TEXT NOT NULL,
                    task_id INTEGER,
                    unit_id TEXT,
                    member_id TEXT,
                    data TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX events_at ON events(at);
                """)
        }
        registerDeliberation(&migrator)
        registerRegistry(&migrator)
        migrator.registerMigration("v4-outbox-by-robot") { db in
            // The delivery forecast of a new task reads the pending queue of the robots it sends to,
            // without decoding payloads. Rows from before this migration count as 0 bytes.
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN text_bytes INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX outbox_pending_robot ON outbox(robot_id, id) WHERE state = 'pending';
                """)
        }
        migrator.registerMigration("v5-outbox-due-order") { db in
            // The outbox service reads the next 512 due messages in send order (urgent first, then by
            // age). Without an index in that order SQLite sorted every due row on each read, so an
            // outbox that fell behind (100,000 escalation notices) slowed down the further it fell.
            try db.execute(sql: "CREATE INDEX outbox_due_order ON outbox(priority, id) WHERE state = 'pending'")
        }
        migrator.registerMigration("v6-reliability-store-timers-and-meta") { db in
            // A timer whose handler fails is retried with backoff instead of being marked fired
            // (attempts, last_error; first_due_at keeps the time it was due, for its handler); a timer
            // that can never fire is put aside with its reason (dead_reason, fired_at set).
            // store_meta keeps facts about the file itself (which program has written to it).
            try db.execute(sql: """
                ALTER TABLE timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE timers ADD COLUMN last_error TEXT;
                ALTER TABLE timers ADD COLUMN first_due_at REAL;
                ALTER TABLE timers ADD COLUMN dead_reason TEXT;
                CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6-reliability-outbox-state") { db in
            // Robot pauses (rate limited, circuit breaker open) and the sends of the last minutes, so
            // a restart keeps every robot's rate window and pause; the index finds recent dead letters;
            // `dropped_reason` marks a row settled without sending (state 'sent', never delivered):
            // a reminder for a task closed meanwhile, or one merged into a first notice still waiting.
            try db.execute(sql: """
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
        migrator.registerMigration("v6-security-outbox-payload-v2") { db in
            // Issue 11: rows held the group's robot credentials and the mentioned members' mobile
            // numbers, and robot_id was the robot's key. Rewrite every row as payload version 2
            // (unit, chat, robot alias, member ids) with the alias as robot_id. Rows the payload
            // reader cannot read keep their payload (they are put aside when due) but lose the key.
            var last: Int64 = 0
            while true {
                let rows = try Row.fetchAll(db, sql: "SELECT id, payload FROM outbox WHERE id > ? ORDER BY id LIMIT 1000", arguments: [last])
                guard let end = rows.last else { break }
                last = end["id"]
                for row in rows {
                    let id: Int64 = row["id"]
                    if let message = OutboxPayload.decode(row["payload"]) {
                        try db.execute(sql: "UPDATE outbox SET payload = ?, robot_id = ? WHERE id = ?",
                                       arguments: [try OutboxPayload.encode(message), message.group.robotID, id])
                    } else {
                        try db.execute(sql: "UPDATE outbox SET robot_id = platform || ':' || chat WHERE id = ?", arguments: [id])
                    }
                }
            }
            // Rate windows and pauses were kept by the robot's key: forget them (a minute's sends and
            // a pause at most; the outbox is rebuilt from the rows above).
            try db.execute(sql: "DELETE FROM robot_sends; DELETE FROM robot_pauses")
        }
        migrator.registerMigration("v6-connect-dingtalk-connection-leases") { db in
            // Who holds each platform connection (issue 12): a lease with a fencing token.
            try db.execute(sql: """
                CREATE TABLE connection_leases (
                    name TEXT PRIMARY KEY,
                    holder TEXT NOT NULL,
                    token INTEGER NOT NULL,
                    expires_at REAL NOT NULL
                )
                """)
        }
        registerOnboarding(&migrator)
        migrator.registerMigration("v6-speed-dead-counts") { db in
            // The health check counts dead timers every 10 s; without this index that read every timer
            // ever written, more of them the longer the bot ran (issue 16). It holds only the dead ones.
            // (Dead outbox messages are counted in v6-reliability-outbox-state's partial index outbox_dead.)
            try db.execute(sql: "CREATE INDEX timers_dead ON timers(key) WHERE dead_reason IS NOT NULL")
        }
        migrator.registerMigration("v7-speed-privacy-refusals") { db in
            // Every screened command (/任务, /上报, …) counts its sender's privacy refusals of the last
            // hour; through events_at that read every event of the hour (2.2 M instructions a /任务 in
            // the in-process bench). This index holds only the refusals.
            try db.execute(sql: "CREATE INDEX events_privacy_refused ON events(member_id, at) WHERE kind = 'privacy.refused'")
        }
        migrator.registerMigration("v8-speed-outbox-robot-order") { db in
            // An outbox round reads each chosen robot's due rows in send order (urgent first, then by
            // age) so that a robot with a backlog gets a batch of many, not one row per round (issue 16).
            // This index serves that without a sort, and everything outbox_pending_robot served.
            try db.execute(sql: """
                CREATE INDEX outbox_pending_robot_order ON outbox(robot_id, priority, id) WHERE state = 'pending';
                DROP INDEX outbox_pending_robot;
                """)
        }
        return migrator
    }
}
