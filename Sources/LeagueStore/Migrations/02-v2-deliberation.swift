import GRDB
import LeagueCore

extension Migrations {
    static let m02_v2_deliberation = Migration(name: "v2-deliberation") { db in
        try db.execute(
            sql: """
                CREATE TABLE delib_meetings (
                    id INTEGER PRIMARY KEY,
                    unit_id TEXT NOT NULL,
                    month TEXT NOT NULL,
                    opened_at REAL NOT NULL,
                    closed_at REAL,
                    body TEXT NOT NULL
                );
                CREATE UNIQUE INDEX delib_meetings_one_open ON delib_meetings(unit_id) WHERE closed_at IS NULL;
                CREATE INDEX delib_meetings_month ON delib_meetings(month, unit_id) WHERE closed_at IS NOT NULL;

                CREATE TABLE delib_agenda (
                    id INTEGER PRIMARY KEY,
                    unit_id TEXT NOT NULL,
                    month TEXT NOT NULL,
                    text TEXT NOT NULL CHECK (length(text) > 0),
                    added_by TEXT NOT NULL,
                    source_unit TEXT NOT NULL,
                    added_at REAL NOT NULL
                );
                CREATE INDEX delib_agenda_unit ON delib_agenda(unit_id, month);
                CREATE INDEX delib_agenda_source ON delib_agenda(source_unit, month);

                CREATE TABLE delib_followups (
                    id INTEGER PRIMARY KEY,
                    unit_id TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('action', 'demand')),
                    text TEXT NOT NULL,
                    owner_name TEXT,
                    task_id INTEGER REFERENCES tasks(id),
                    demand_ref TEXT,
                    meeting_id INTEGER NOT NULL REFERENCES delib_meetings(id),
                    created_at REAL NOT NULL,
                    closed_at REAL
                );
                CREATE INDEX delib_followups_open ON delib_followups(unit_id) WHERE closed_at IS NULL;

                CREATE TABLE delib_values (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE INDEX inbound_chat ON inbound(platform, chat, id);
                """)
    }
}
