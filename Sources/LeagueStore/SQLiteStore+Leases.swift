import Foundation
import GRDB
import LeagueCore

extension SQLiteStore: LeaseStore {
    public func acquireLease(_ name: String, holder: String, now: Date, ttl: Double) async throws -> ConnectionLease? {
        try await writer.write { db in
            let row = try Row.fetchOne(db, sql: "SELECT holder, token, expires_at FROM connection_leases WHERE name = ?", arguments: [name])
            let current = row.map { row in
                ConnectionLease(
                    name: name, holder: row["holder"], token: row["token"],
                    expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            }
            guard let granted = LeaseRule.grant(current: current, name: name, holder: holder, now: now, ttl: ttl) else { return nil }
            try db.execute(
                sql: """
                    INSERT INTO connection_leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at
                    """, arguments: [name, granted.holder, granted.token, granted.expiresAt.timeIntervalSince1970])
            return granted
        }
    }

    public func releaseLease(_ name: String, holder: String, token: Int64) async throws {
        try await writer.write { db in
            // Expire it rather than delete it, so the next grant gets a larger token.
            try db.execute(
                sql: "UPDATE connection_leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?",
                arguments: [name, holder, token])
        }
    }
}
