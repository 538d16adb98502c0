import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore

/// `leagueops backup --out FILE`: a consistent copy of the store while the bot serves.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the store (SQLite online backup); safe while `serve` runs.")

    @OptionGroup var options: ConfigOption
    @Option(help: "The copy to write (must not exist).") var out: String
    @Option(help: "The store to copy (default: store.sqlite from the config).") var db: String?

    func run() async throws {
        let path = try db ?? loadOrExit(options.config).store.sqlitePath
        do {
            let bytes = try SQLiteStore.backup(databasePath: path, to: out)
            // A backup copies everything, the youth registry included: it is in the audit log.
            try await AuditedReads.recordBackup(
                try SQLiteStore(path: path), file: URL(fileURLWithPath: out).lastPathComponent, bytes: bytes,
                actor: operatorName())
            print("Backup of \(path) written to \(out) (\(bytes) bytes, integrity checked, owner-only; written to the audit log).")
        } catch {
            throw failure("leagueops backup: \(error)", exit: 74)
        }
    }
}

/// `leagueops restore --from BACKUP [--sent-from OLD]`: puts a backup in place of the store.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place of the store (the bot must be stopped).",
        discussion: """
            With --sent-from, the store that failed (if it can still be read) tells which notices were \
            delivered and which timers fired after the backup was taken; they are marked so in the \
            restored store and are not sent again.
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "The backup to restore.") var from: String
    @Option(help: "The failed store, to keep notices delivered after the backup from being sent again.") var sentFrom: String?

    func run() async throws {
        let config = try loadOrExit(options.config)
        let path = config.store.sqlitePath
        func fail(_ text: String) -> ExitCode {
            return failure("leagueops restore: \(text)", exit: 74)
        }
        let lock = try orExit(74, "leagueops restore: ") { try StoreLock(databasePath: path) }
        defer { withExtendedLifetime(lock) {} }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw fail("\(path) exists; move it aside first (with its -wal file) and pass the moved file as --sent-from, so nothing delivered is sent twice")
        }
        do {
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            try SQLiteStore.backup(databasePath: from, to: path)
            if let sentFrom {
                let (outbox, timers) = try SQLiteStore.reconcile(restored: path, with: sentFrom)
                print("Restored \(from) to \(path); \(outbox) notice(s) delivered and \(timers) timer(s) fired after the backup marked as done.")
            } else {
                print("Restored \(from) to \(path). Notices pending in the backup are sent on the next start.")
            }
        } catch {
            throw fail("\(error)")
        }
    }
}
