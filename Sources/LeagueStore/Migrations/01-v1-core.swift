import GRDB
import LeagueCore

extension Migrations {
    static let m01_v1_core = Migration(name: "v1-core") { db in
        try db.execute(
            sql: """
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
}
