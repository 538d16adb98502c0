import GRDB
import LeagueCore

extension Migrations {
    /// Tables of the deliberation feature (append-only, after v1-core).
    static func registerDeliberation(_ migrator: inout DatabaseMigrator) {}
}

extension SQLiteTransaction: DeliberationRecords {}
