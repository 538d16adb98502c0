import GRDB
import LeagueCore

extension Migrations {
    static let m13_v8_speed_outbox_robot_order = Migration(name: "v8-speed-outbox-robot-order") { db in
        // An outbox round reads each chosen robot's due rows in send order (urgent first, then by
        // age) so that a robot with a backlog gets a batch of many, not one row per round (issue 16).
        // This index serves that without a sort, and everything outbox_pending_robot served.
        try db.execute(
            sql: """
                CREATE INDEX outbox_pending_robot_order ON outbox(robot_id, priority, id) WHERE state = 'pending';
                DROP INDEX outbox_pending_robot;
                """)
    }
}
