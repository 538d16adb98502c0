import GRDB
import LeagueCore

extension Migrations {
    static let m10_v6_onboard_bindings = Migration(name: "v6-onboard-bindings") { db in
        try db.execute(
            sql: """
                CREATE TABLE onboard_codes (
                    code_hash TEXT PRIMARY KEY,
                    unit_id TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at REAL,
                    used_in TEXT
                );
                CREATE INDEX onboard_codes_unit ON onboard_codes(unit_id);

                CREATE TABLE onboard_chats (
                    platform TEXT NOT NULL,
                    chat TEXT NOT NULL,
                    unit_id TEXT NOT NULL UNIQUE,
                    bound_at REAL NOT NULL,
                    bound_by TEXT NOT NULL,
                    PRIMARY KEY (platform, chat)
                );

                CREATE TABLE onboard_members (
                    platform TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    member_id TEXT NOT NULL,
                    registered_at REAL NOT NULL,
                    PRIMARY KEY (platform, user_id),
                    UNIQUE (member_id, platform)
                );
                """)
    }
}
