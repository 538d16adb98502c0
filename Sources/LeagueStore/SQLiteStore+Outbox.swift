import Foundation
import GRDB
import LeagueCore

/// The outbox's delivery state: due rows per robot, robot pauses, recent sends, health figures.
extension SQLiteTransaction {
    /// A JSON array of robot ids, for `robot_id NOT IN (SELECT value FROM json_each(?))` (one cached statement).
    private static func jsonArray(_ robots: Set<String>?) -> String {
        OutJSON.array((robots ?? []).sorted().map { .string($0) }).text
    }

    func dueOutbox(at now: Date, limit: Int, excludingRobots: Set<String>, maxRobots: Int) throws -> DueOutbox {
        let rows = try fetchAll(sql: """
            SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?
            AND robot_id NOT IN (SELECT value FROM json_each(?)) ORDER BY priority, id LIMIT ?
            """, arguments: [now.timeIntervalSince1970, Self.jsonArray(excludingRobots), limit])
        var due = DueOutbox()
        // Only the rows of the first `maxRobots` robots are decoded (the payload is most of a round's
        // cost); the others stay due for a later round, as the outbox would leave them anyway.
        var robots: Set<String> = []
        for row in rows {
            let robot: String = row["robot_id"]
            if !robots.contains(robot) {
                guard robots.count < maxRobots else { continue }
                robots.insert(robot)
            }
            switch Self.decodeOutbox(row) {
            case .success(let entry): due.entries.append(entry)
            case .failure(let bad): due.undecodable.append(bad)
            }
        }
        return due
    }

    func nextOutboxDue(excludingRobots: Set<String>) throws -> Date? {
        guard !excludingRobots.isEmpty else { return try nextOutboxDue() }
        return try value(Double.self, sql: """
            SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND robot_id NOT IN (SELECT value FROM json_each(?))
            """, arguments: [Self.jsonArray(excludingRobots)]).map(Self.date)
    }

    func robotPauses(robots: Set<String>?) throws -> [RobotPause] {
        let rows = try robots == nil
            ? fetchAll(sql: "SELECT * FROM robot_pauses ORDER BY robot_id")
            : fetchAll(sql: "SELECT * FROM robot_pauses WHERE robot_id IN (SELECT value FROM json_each(?)) ORDER BY robot_id",
                       arguments: [Self.jsonArray(robots)])
        return rows.map { row in
            RobotPause(robotID: row["robot_id"], platform: row["platform"], kind: RobotPause.Kind(rawValue: row["kind"]) ?? .failing,
                       until: Self.date(row["until"] as Double), seconds: row["seconds"], since: Self.date(row["since"] as Double),
                       failures: row["failures"], reason: row["reason"])
        }
    }

    func robotSends(robots: Set<String>?, since: Date) throws -> [RobotSend] {
        let rows = try robots == nil
            ? fetchAll(sql: "SELECT robot_id, platform, at FROM robot_sends WHERE at >= ? ORDER BY at", arguments: [since.timeIntervalSince1970])
            : fetchAll(sql: """
                SELECT robot_id, platform, at FROM robot_sends WHERE at >= ? AND robot_id IN (SELECT value FROM json_each(?)) ORDER BY at
                """, arguments: [since.timeIntervalSince1970, Self.jsonArray(robots)])
        return rows.map { RobotSend(robotID: $0[0], platform: $0[1], at: Self.date($0[2] as Double)) }
    }

    func outboxHealth(at now: Date) throws -> OutboxHealth {
        var health = OutboxHealth()
        let seconds = now.timeIntervalSince1970
        if let oldest = try value(Double.self, sql: "SELECT MIN(created_at) FROM outbox WHERE state = 'pending'") {
            health.oldestPendingSeconds = max(0, seconds - oldest)
        }
        health.deadLastDay = try value(Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND sent_at >= ?",
                                       arguments: [seconds - 86_400]) ?? 0
        health.undecodable = try value(Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND last_error LIKE 'undecodable%'") ?? 0
        health.pauses = try robotPauses(robots: nil)
        health.backlog = try fetchAll(sql: """
            SELECT platform, robot_id, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY robot_id
            """).map { OutboxHealth.Backlog(platform: $0[0], robotID: $0[1], pending: $0[2]) }
        return health
    }

    func markDropped(_ outboxID: Int64, reason: String, at now: Date) throws {
        try execute(sql: "UPDATE outbox SET state = 'sent', sent_at = ?, dropped_reason = ? WHERE id = ? AND state = 'pending'",
                    arguments: [now.timeIntervalSince1970, reason, outboxID])
    }

    func recordSends(_ sends: [RobotSend]) throws {
        guard let latest = sends.map(\.at).max() else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO robot_sends (robot_id, platform, at) VALUES (?, ?, ?)")
        for send in sends { try statement.execute(arguments: [send.robotID, send.platform, send.at.timeIntervalSince1970]) }
        try execute(sql: "DELETE FROM robot_sends WHERE at < ?", arguments: [latest.timeIntervalSince1970 - 120])
    }

    func setPause(_ pause: RobotPause) throws {
        try execute(sql: """
            INSERT INTO robot_pauses (robot_id, platform, kind, until, seconds, since, failures, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (robot_id) DO UPDATE SET platform = excluded.platform, kind = excluded.kind, until = excluded.until,
                seconds = excluded.seconds, since = excluded.since, failures = excluded.failures, reason = excluded.reason
            """, arguments: [pause.robotID, pause.platform, pause.kind.rawValue, pause.until.timeIntervalSince1970, pause.seconds,
                             pause.since.timeIntervalSince1970, pause.failures, pause.reason])
    }

    func clearPause(robotID: String) throws {
        try execute(sql: "DELETE FROM robot_pauses WHERE robot_id = ?", arguments: [robotID])
    }

    func shiftOutbox(back seconds: Double, now: Date) throws {
        let at = now.timeIntervalSince1970
        try execute(sql: """
            UPDATE outbox SET next_attempt_at = MAX(?1, next_attempt_at - ?2) WHERE state = 'pending' AND next_attempt_at > ?1
            """, arguments: [at, seconds])
        try execute(sql: "UPDATE robot_pauses SET until = MAX(?1, until - ?2), since = MIN(since, ?1) WHERE until > ?1", arguments: [at, seconds])
        try execute(sql: "UPDATE robot_sends SET at = MIN(at, ?1)", arguments: [at])
    }
}
