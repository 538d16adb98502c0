import GRDB
import LeagueCore

extension Migrations {
    static let m11_v6_speed_dead_counts = Migration(name: "v6-speed-dead-counts") { db in
        // The health check counts dead timers every 10 s; without this index that read every timer
        // ever written, more of them the longer the bot ran (issue 16). It holds only the dead ones.
        // (Dead outbox messages are counted in v6-reliability-outbox-state's partial index outbox_dead.)
        try db.execute(sql: "CREATE INDEX timers_dead ON timers(key) WHERE dead_reason IS NOT NULL")
    }
}
