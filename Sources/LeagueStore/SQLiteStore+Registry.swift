import GRDB
import LeagueCore

extension Migrations {
    /// Tables of the registry feature (append-only, after the deliberation ones).
    static func registerRegistry(_ migrator: inout DatabaseMigrator) {}
}

extension SQLiteTransaction: RegistryRecords {}
