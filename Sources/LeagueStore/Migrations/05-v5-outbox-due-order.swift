import GRDB
import LeagueCore

extension Migrations {
    static let m05_v5_outbox_due_order = Migration(name: "v5-outbox-due-order") { db in
        // The outbox service reads the next 512 due messages in send order (urgent first, then by
        // age). Without an index in that order SQLite sorted every due row on each read, so an
        // outbox that fell behind (100,000 escalation notices) slowed down the further it fell.
        try db.execute(sql: "CREATE INDEX outbox_due_order ON outbox(priority, id) WHERE state = 'pending'")
    }
}
