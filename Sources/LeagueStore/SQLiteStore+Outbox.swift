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
        let seconds = now.timeIntervalSince1970
        // The robots first: the first `maxRobots` robots with a due row, in send order (robot ids only,
        // read through a cursor that stops as soon as enough robots are found; a bounded scan, so one
        // robot with a long backlog ahead of the others cannot make a round read all of it).
        var robots: [String] = []
        var seen: Set<String> = []
        let scan = max(512, maxRobots * 16)
        let cursor = try String.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT robot_id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?
                    AND robot_id NOT IN (SELECT value FROM json_each(?)) ORDER BY priority, id LIMIT ?
                    """), arguments: [seconds, Self.jsonArray(excludingRobots), scan])
        while robots.count < maxRobots, let robot = try cursor.next() {
            if seen.insert(robot).inserted { robots.append(robot) }
        }
        // Then up to `limit` due rows of each (outbox_pending_robot_order: no sort), so a robot with a
        // backlog gets a batch of many rows, not one row per round.
        var due = DueOutbox()
        var rows: [(priority: Int, id: Int64, entry: Result<OutboxEntry, UndecodableOutbox>)] = []
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(Self.outboxColumns), priority FROM outbox
                WHERE state = 'pending' AND robot_id = ? AND next_attempt_at <= ? ORDER BY priority, id LIMIT ?
                """)
        for robot in robots {
            let cursor = try Row.fetchCursor(statement, arguments: [robot, seconds, limit])
            while let row = try cursor.next() {
                rows.append((row[8], row[0], Self.decodeOutbox(row)))
            }
        }
        // In send order over all robots: urgent first, then by age.
        rows.sort { ($0.priority, $0.id) < ($1.priority, $1.id) }
        for row in rows {
            switch row.entry {
            case .success(let entry): due.entries.append(entry)
            case .failure(let bad): due.undecodable.append(bad)
            }
        }
        return due
    }

    func nextOutboxDue(excludingRobots: Set<String>) throws -> Date? {
        guard !excludingRobots.isEmpty else { return try nextOutboxDue() }
        return try value(
            Double.self,
            sql: """
                SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND robot_id NOT IN (SELECT value FROM json_each(?))
                """, arguments: [Self.jsonArray(excludingRobots)]
        ).map(Self.date)
    }

    func robotPauses(robots: Set<String>?) throws -> [RobotPause] {
        let rows =
            try robots == nil
            ? fetchAll(sql: "SELECT * FROM robot_pauses ORDER BY robot_id")
            : fetchAll(
                sql: "SELECT * FROM robot_pauses WHERE robot_id IN (SELECT value FROM json_each(?)) ORDER BY robot_id",
                arguments: [Self.jsonArray(robots)])
        return rows.map { row in
            RobotPause(
                robotID: row["robot_id"], platform: row["platform"], kind: RobotPause.Kind(rawValue: row["kind"]) ?? .failing,
                until: Self.date(row["until"] as Double), seconds: row["seconds"], since: Self.date(row["since"] as Double),
                failures: row["failures"], reason: row["reason"])
        }
    }

    func robotSends(robots: Set<String>?, since: Date) throws -> [RobotSend] {
        let rows =
            try robots == nil
            ? fetchAll(sql: "SELECT robot_id, platform, at FROM robot_sends WHERE at >= ? ORDER BY at", arguments: [since.timeIntervalSince1970])
            : fetchAll(
                sql: """
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
        health.deadLastDay =
            try value(
                Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND sent_at >= ?",
                arguments: [seconds - 86_400]) ?? 0
        health.undecodable = try value(Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND last_error LIKE 'undecodable%'") ?? 0
        health.pauses = try robotPauses(robots: nil)
        health.backlog = try fetchAll(
            sql: """
                SELECT platform, robot_id, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY robot_id
                """
        ).map { OutboxHealth.Backlog(platform: $0[0], robotID: $0[1], pending: $0[2]) }
        return health
    }

    func markDropped(_ outboxID: Int64, reason: String, at now: Date) throws {
        try execute(
            sql: "UPDATE outbox SET state = 'sent', sent_at = ?, dropped_reason = ? WHERE id = ? AND state = 'pending'",
            arguments: [now.timeIntervalSince1970, reason, outboxID])
    }

    func recordSends(_ sends: [RobotSend]) throws {
        guard let latest = sends.map(\.at).max() else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO robot_sends (robot_id, platform, at) VALUES (?, ?, ?)")
        for send in sends { try statement.execute(arguments: [send.robotID, send.platform, send.at.timeIntervalSince1970]) }
        try execute(sql: "DELETE FROM robot_sends WHERE at < ?", arguments: [latest.timeIntervalSince1970 - 120])
    }

    func setPause(_ pause: RobotPause) throws {
        try execute(
            sql: """
                INSERT INTO robot_pauses (robot_id, platform, kind, until, seconds, since, failures, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (robot_id) DO UPDATE SET platform = excluded.platform, kind = excluded.kind, until = excluded.until,
                    seconds = excluded.seconds, since = excluded.since, failures = excluded.failures, reason = excluded.reason
                """,
            arguments: [
                pause.robotID, pause.platform, pause.kind.rawValue, pause.until.timeIntervalSince1970, pause.seconds,
                pause.since.timeIntervalSince1970, pause.failures, pause.reason,
            ])
    }

    func clearPause(robotID: String) throws {
        try execute(sql: "DELETE FROM robot_pauses WHERE robot_id = ?", arguments: [robotID])
    }

    func shiftOutbox(back seconds: Double, now: Date) throws {
        let at = now.timeIntervalSince1970
        try execute(
            sql: """
                UPDATE outbox SET next_attempt_at = MAX(?1, next_attempt_at - ?2) WHERE state = 'pending' AND next_attempt_at > ?1
                """, arguments: [at, seconds])
        try execute(sql: "UPDATE robot_pauses SET until = MAX(?1, until - ?2), since = MIN(since, ?1) WHERE until > ?1", arguments: [at, seconds])
        try execute(sql: "UPDATE robot_sends SET at = MIN(at, ?1)", arguments: [at])
    }
}
