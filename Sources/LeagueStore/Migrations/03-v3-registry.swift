import GRDB
import LeagueCore

extension Migrations {
    static let m03_v3_registry = Migration(name: "v3-registry") { db in
        try db.execute(
            sql: """
                CREATE TABLE youth (
                    id INTEGER PRIMARY KEY,
                    grid_id TEXT NOT NULL,
                    name TEXT NOT NULL CHECK (length(name) > 0),
                    age_band TEXT NOT NULL CHECK (age_band IN ('0-13', '14-17', '18-24', '25-35')),
                    status TEXT NOT NULL CHECK (status IN ('student', 'working', 'seeking', 'other')),
                    in_difficulty INTEGER NOT NULL CHECK (in_difficulty IN (0, 1)),
                    category TEXT NOT NULL DEFAULT '',
                    contact TEXT NOT NULL,
                    imported_at REAL NOT NULL
                );
                CREATE INDEX youth_grid ON youth(grid_id);

                CREATE TABLE demands (
                    id INTEGER PRIMARY KEY,
                    unit_id TEXT NOT NULL,
                    text TEXT NOT NULL CHECK (length(text) > 0),
                    category TEXT,
                    state TEXT NOT NULL CHECK (state IN ('collected', 'published', 'claimed', 'in_progress', 'resolved', 'closed')),
                    created_at REAL NOT NULL,
                    created_by TEXT NOT NULL,
                    state_since REAL NOT NULL,
                    version INTEGER NOT NULL,
                    published_to TEXT,
                    claimed_by TEXT,
                    claimed_unit TEXT,
                    note TEXT,
                    source TEXT NOT NULL CHECK (source IN ('chat', 'minutes')),
                    CHECK (state <> 'closed' OR length(note) > 0)
                );
                CREATE INDEX demands_unit ON demands(unit_id, state);

                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY,
                    at REAL NOT NULL,
                    actor TEXT NOT NULL,
                    unit_id TEXT,
                    action TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused'))
                );
                CREATE INDEX audit_at ON audit(at);
                """)
    }
}
