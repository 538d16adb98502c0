import GRDB
import LeagueCore

extension Migrations {
    static let m04_v4_outbox_by_robot = Migration(name: "v4-outbox-by-robot") { db in
        // The delivery forecast of a new task reads the pending queue of the robots it sends to,
        // without decoding payloads. Rows from before this migration count as 0 bytes.
        try db.execute(
            sql: """
                ALTER TABLE outbox ADD COLUMN text_bytes INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX outbox_pending_robot ON outbox(robot_id, id) WHERE state = 'pending';
                """)
    }
}
