import Foundation
import LeagueConfig
import LeagueCore

/// Loading the youth registry from a CSV file (the CLI's `leagueops import youth`).
public enum RegistryImporter {
    /// What an import changed: counts only.
    public struct Summary: Sendable, Hashable {
        public var grids: Int
        public var rows: Int

        public init(grids: Int, rows: Int) {
            self.grids = grids
            self.rows = rows
        }
    }

    /// Validates the whole file, then replaces the rows of every grid it names in one transaction.
    /// Grids not in the file keep their rows. Nothing is written when any row is bad.
    /// - Parameters:
    ///   - text: the CSV text.
    ///   - actor: who imported it, for the audit log (`operator:<user>`).
    /// - Throws: `ImportErrors` listing every bad line; store errors.
    public static func importYouth(_ text: String, org: OrgTree, store: any Store, actor: String, source: String, now: Date) async throws -> Summary {
        let byGrid = try YouthImport.parse(text, org: org).get()
        let rows = byGrid.values.reduce(0) { $0 + $1.count }
        try await store.write { tx in
            for (grid, records) in byGrid { try tx.replaceYouth(gridID: grid, rows: records, at: now) }
            try tx.appendAudit(
                AuditEntry(
                    at: now, actor: actor, unitID: nil, action: "registry.import",
                    detail: "file=\(source) grids=\(byGrid.count) rows=\(rows)"))
        }
        return Summary(grids: byGrid.count, rows: rows)
    }
}
