import Foundation
import GRDB
import LeagueCore

/// The schema, one migration per file in this folder, named `NN-vK-area-what.swift`. Migrations are
/// append-only: never edit one that has shipped; add the next file and append it to `all`.
enum Migrations {
    struct Migration: Sendable {
        var name: String
        var migrate: @Sendable (Database) throws -> Void
    }

    /// Every migration, in the order they run.
    static let all: [Migration] = [
        m01_v1_core,
        m02_v2_deliberation,
        m03_v3_registry,
        m04_v4_outbox_by_robot,
        m05_v5_outbox_due_order,
        m06_v6_reliability_store_timers_and_meta,
        m07_v6_reliability_outbox_state,
        m08_v6_security_outbox_payload_v2,
        m09_v6_connect_dingtalk_connection_leases,
        m10_v6_onboard_bindings,
        m11_v6_speed_dead_counts,
        m12_v7_speed_privacy_refusals,
        m13_v8_speed_outbox_robot_order,
    ]

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in all { migrator.registerMigration(migration.name, migrate: migration.migrate) }
        return migrator
    }
}
