import Foundation
import GRDB
import Testing

@testable import LeagueStore

/// The schema's history is a folder of files, one migration each, run in file order.
@Suite struct MigrationsTests {
    @Test func everyMigrationHasItsOwnFileAndTheyRunInFileOrder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/LeagueStore/Migrations").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.first?.isNumber == true && $0.hasSuffix(".swift") }.sorted()
        // "07-v6-reliability-outbox-state.swift" holds the migration named "v6-reliability-outbox-state".
        let named = files.map { String($0.dropFirst(3).dropLast(6)) }
        #expect(Migrations.all.map(\.name) == named)
        #expect(Set(Migrations.all.map(\.name)).count == Migrations.all.count)
        #expect(files.enumerated().allSatisfy { index, file in file.hasPrefix(String(format: "%02d-", index + 1)) })

        // A new store has run every one of them, in that order.
        let queue = try DatabaseQueue()
        try Migrations.migrator().migrate(queue)
        let applied = try queue.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(applied == Migrations.all.map(\.name))
    }
}
