import Foundation
import LeagueCore

/// What the operator's commands (`leagueops registry show`, `minutes export`, `report monthly`,
/// `backup`) read from the store, each with its audit row.
///
/// Each read runs on a snapshot, and its audit row is committed before the read is returned, so
/// nothing the CLI prints was read without a trace (`leagueops audit` lists them). The CLI only parses
/// arguments and prints.
public enum AuditedReads {
    /// Reads on a snapshot, then commits the read's audit row (`entry`, made from what was read).
    static func read<T: Sendable>(
        _ store: any Store, _ body: @escaping @Sendable (any StoreTransaction) throws -> T, audit entry: @escaping @Sendable (T) -> AuditEntry
    ) async throws -> T {
        let value = try await store.snapshot(body)
        try await store.write { tx in try tx.appendAudit(entry(value)) }
        return value
    }

    /// The per-person youth rows of a unit's subtree.
    public static func youthRows(_ store: any Store, org: OrgTree, unit: OrgUnit, actor: String, reason: String, now: Date = Date()) async throws -> [YouthRecord] {
        let ids = Set(([unit] + org.descendants(of: unit.id)).map(\.id))
        return try await read(store, { tx in try tx.youthRows(gridIDs: ids) }) { rows in
            AuditEntry(at: now, actor: actor, unitID: unit.id, action: "registry.show", detail: "unit=\(unit.id) rows=\(rows.count) reason=\(reason)")
        }
    }

    /// The closed meetings of a unit (and, with `subtree`, every unit below it) for a month.
    public static func minutes(
        _ store: any Store, org: OrgTree, unit: OrgUnit, month: String, subtree: Bool, format: String, actor: String,
        now: Date = Date()
    ) async throws -> [Meeting] {
        let units = [unit.id] + (subtree ? org.descendants(of: unit.id).map(\.id) : [])
        // Minutes hold what people said about young people.
        return try await read(store, { tx in try tx.minutes(unitIDs: units, month: month) }) { meetings in
            AuditEntry(
                at: now, actor: actor, unitID: unit.id, action: "minutes.export",
                detail: "unit=\(unit.id) month=\(month) subtree=\(subtree ? 1 : 0) format=\(format) meetings=\(meetings.count)")
        }
    }

    /// A month's events and the units with minutes that month, for the monthly report of `scope` (nil: the root).
    public static func month(
        _ store: any Store, month: String, range: (start: Date, end: Date), scope: String?, actor: String,
        now: Date = Date()
    ) async throws -> (events: [EventRecord], minutes: Set<String>) {
        let (start, end) = range
        let read = try await read(store, { tx in (try tx.events(from: start, to: end), try tx.unitsWithMinutes(month: month)) }) { _ in
            AuditEntry(at: now, actor: actor, unitID: scope, action: "report.monthly", detail: "month=\(month) unit=\(scope ?? "root")")
        }
        return (read.0, read.1)
    }

    /// A backup copies everything, the youth registry included: it is written to the audit log.
    public static func recordBackup(_ store: any Store, file: String, bytes: Int, actor: String, now: Date = Date()) async throws {
        let entry = AuditEntry(at: now, actor: actor, unitID: nil, action: "store.backup", detail: "file=\(file) bytes=\(bytes)")
        try await store.write { tx in try tx.appendAudit(entry) }
    }
}
