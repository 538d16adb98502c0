import GRDB
import LeagueCore

extension Migrations {
    static let m09_v6_connect_dingtalk_connection_leases = Migration(name: "v6-connect-dingtalk-connection-leases") { db in
        // Who holds each platform connection (issue 12): a lease with a fencing token.
        try db.execute(
            sql: """
                CREATE TABLE connection_leases (
                    name TEXT PRIMARY KEY,
                    holder TEXT NOT NULL,
                    token INTEGER NOT NULL,
                    expires_at REAL NOT NULL
                )
                """)
    }
}
