import Foundation
import GRDB
import LeagueCore

extension SQLiteStore {
    /// Retention and a WAL checkpoint, each step in short transactions so webhooks never wait long.
    public func maintain(_ retention: RetentionPolicy, now: Date) async throws -> MaintenanceReport {
        var report = MaintenanceReport()
        let inboundBefore = now.timeIntervalSince1970 - retention.inboundSeconds
        let outboxBefore = now.timeIntervalSince1970 - max(retention.outboxSeconds, RetentionPolicy.minimumOutboxSeconds)
        // Inbound texts, in chunks of 2,000 rows from where the last round stopped (ids grow with time).
        while true {
            let (covered, blanked) = try await writer.write { db -> (Int, Int) in
                // A meeting still open reads its transcript from the inbox when it closes: keep those.
                let openStarts = try Row.fetchAll(db, sql: "SELECT body FROM delib_meetings WHERE closed_at IS NULL")
                    .compactMap(SQLiteTransaction.decodeMeeting).map(\.startInbound)
                let protectFrom = openStarts.min() ?? Int64.max
                let after = Int64(try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'retention.inbound.after'") ?? "0") ?? 0
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, received_at, processed_at IS NOT NULL FROM inbound WHERE id > ? AND id < ? ORDER BY id LIMIT 2000
                        """, arguments: [after, protectFrom])
                // Up to the first message that is still young or not processed yet.
                var through = after
                var covered = 0
                for row in rows {
                    let receivedAt: Double = row[1]
                    let processed: Bool = row[2]
                    guard receivedAt < inboundBefore, processed else { break }
                    through = row[0]
                    covered += 1
                }
                guard covered > 0 else { return (0, 0) }
                try db.execute(sql: "UPDATE inbound SET text = '' WHERE id > ? AND id <= ? AND text != ''", arguments: [after, through])
                let blanked = db.changesCount
                try db.execute(sql: "INSERT OR REPLACE INTO store_meta (key, value) VALUES ('retention.inbound.after', ?)", arguments: [String(through)])
                return (covered, blanked)
            }
            report.blankedInbound += blanked
            if covered < 2000 { break }
        }
        report.deletedOutbox = try await deleteInChunks(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'sent' AND sent_at < ? LIMIT 2000)", before: outboxBefore)
        report.deletedTimers = try await deleteInChunks(
            "DELETE FROM timers WHERE key IN (SELECT key FROM timers WHERE fired_at < ? AND dead_reason IS NULL LIMIT 2000)", before: outboxBefore)
        report.walFramesLeft = try await checkpoint()
        return report
    }

    private func deleteInChunks(_ sql: String, before: Double) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await writer.write { db -> Int in
                try db.execute(sql: sql, arguments: [before])
                return db.changesCount
            }
            total += deleted
            if deleted < 2000 { return total }
        }
    }

    /// Copies what the write-ahead log holds into the database and truncates the log (when no
    /// reader still needs it; otherwise as much as possible). Returns the frames left.
    @discardableResult
    public func checkpoint() async throws -> Int {
        guard writer is DatabasePool else { return 0 }
        return try await writer.writeWithoutTransaction { db -> Int in
            do {
                let result = try db.checkpoint(.truncate)
                return result.walFrameCount - result.checkpointedFrameCount
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                try db.checkpoint(.passive)
                return -1
            }
        }
    }

    /// A value about the store file itself (`writer`: which program has written to it).
    public func metaValue(_ key: String) async throws -> String? {
        try await writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = ?", arguments: [key]) }
    }

    public func setMetaValue(_ key: String, _ value: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    /// Outbound messages that left the bot (sent or given up): a store with any has talked to a platform.
    public func deliveredCount() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state IN ('sent', 'dead')") ?? 0 }
    }

    /// Writes a consistent copy of a store file with SQLite's online backup, while a bot may be
    /// serving from it (readers never block the writer in WAL mode). The copy is written next to
    /// `destination` and renamed into place when complete and checked.
    /// - Throws: when `destination` exists, or the copy fails its integrity check.
    /// - Returns: the copy's size in bytes.
    @discardableResult
    public static func backup(databasePath: String, to destination: String, at now: Date = Date()) throws -> Int {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw BackupError(description: "no store at \(databasePath)")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw BackupError(description: "\(destination) exists already; choose a new file name (backups are never overwritten)")
        }
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        // A backup holds what the store holds (members' messages, minors' data): owner-only like the
        // store itself (issue 11), created so before SQLite writes a byte into it.
        guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw BackupError(description: "cannot create \(partial)")
        }
        // A plain connection that only reads: in WAL mode its read transaction never blocks the writer.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let source = try DatabaseQueue(path: databasePath, configuration: configuration)
        do {
            let copy = try DatabaseQueue(path: partial)
            try source.backup(to: copy)
            try copy.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
                try db.execute(
                    sql: "INSERT OR REPLACE INTO store_meta (key, value) VALUES ('backup_at', ?)",
                    arguments: [String(now.timeIntervalSince1970)])
            }
            let check = try copy.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            guard check == "ok" else { throw BackupError(description: "the copy failed its integrity check: \(check ?? "?")") }
            try copy.close()
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        try FileManager.default.moveItem(atPath: partial, toPath: destination)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination)
        return (try FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
    }

    /// After a backup was copied into place: marks as sent (and fired) what the store that failed had
    /// already sent (and fired), matched by idempotency key, so a restore never sends a notice twice.
    /// - Returns: how many outbox rows and timers were marked.
    public static func reconcile(restored: String, with failed: String) throws -> (outbox: Int, timers: Int) {
        let store = try DatabaseQueue(path: restored)
        return try store.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS failed", arguments: [failed])
            defer { try? db.execute(sql: "DETACH DATABASE failed") }
            var outbox = 0
            var timers = 0
            try db.inTransaction {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'sent', sent_at = (SELECT f.sent_at FROM failed.outbox f WHERE f.key = outbox.key)
                        WHERE state = 'pending' AND key IN (SELECT key FROM failed.outbox WHERE state = 'sent')
                        """)
                outbox = db.changesCount
                try db.execute(
                    sql: """
                        UPDATE timers SET fired_at = (SELECT f.fired_at FROM failed.timers f WHERE f.key = timers.key)
                        WHERE fired_at IS NULL AND key IN (SELECT key FROM failed.timers WHERE fired_at IS NOT NULL)
                        """)
                timers = db.changesCount
                return .commit
            }
            return (outbox, timers)
        }
    }
}

/// Why a backup could not be written.
public struct BackupError: Error, CustomStringConvertible {
    public var description: String
}
