import Foundation
import GRDB
import LeagueCore

extension SQLiteTransaction: RegistryRecords {
    func replaceYouth(gridID: String, rows: [YouthRecord], at now: Date) throws {
        try db.execute(sql: "DELETE FROM youth WHERE grid_id = ?", arguments: [gridID])
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO youth (grid_id, name, age_band, status, in_difficulty, category, contact, imported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for row in rows {
            precondition(row.gridID == gridID, "a row of another grid in replaceYouth")
            try statement.execute(arguments: [
                gridID, row.name, row.ageBand.rawValue, row.status.rawValue, row.inDifficulty,
                row.category, row.contact, now.timeIntervalSince1970,
            ])
        }
    }

    func youthCounts(gridIDs: Set<String>?) throws -> [String: YouthCounts] {
        var result: [String: YouthCounts] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT grid_id, age_band, status, in_difficulty, category, COUNT(*) AS n FROM youth
                GROUP BY grid_id, age_band, status, in_difficulty, category
                """)
        while let row = try rows.next() {
            let grid: String = row["grid_id"]
            if let gridIDs, !gridIDs.contains(grid) { continue }
            guard let band = AgeBand(rawValue: row["age_band"]), let status = YouthStatus(rawValue: row["status"]) else { continue }
            let n: Int = row["n"]
            var counts = result[grid] ?? YouthCounts()
            counts.total += n
            counts.byAgeBand[band, default: 0] += n
            counts.byStatus[status, default: 0] += n
            if row["in_difficulty"] as Bool {
                counts.inDifficulty += n
                let category: String = row["category"]
                counts.difficultyByCategory[category.isEmpty ? "—" : category, default: 0] += n
            }
            result[grid] = counts
        }
        return result
    }

    func youthRows(gridIDs: Set<String>) throws -> [YouthRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM youth ORDER BY grid_id, id").compactMap { row in
            let grid: String = row["grid_id"]
            guard gridIDs.contains(grid), let band = AgeBand(rawValue: row["age_band"]), let status = YouthStatus(rawValue: row["status"]) else { return nil }
            return YouthRecord(
                gridID: grid, name: row["name"], ageBand: band, status: status, inDifficulty: row["in_difficulty"],
                category: row["category"], contact: row["contact"])
        }
    }

    func nextDemandID() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM demands") ?? 1
    }

    func insert(_ demand: Demand) throws {
        try db.execute(
            sql: """
                INSERT INTO demands (id, unit_id, text, category, state, created_at, created_by, state_since, version,
                                     published_to, claimed_by, claimed_unit, note, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                demand.id, demand.unitID, demand.text, demand.category, demand.state.rawValue,
                demand.createdAt.timeIntervalSince1970, demand.createdBy, demand.stateSince.timeIntervalSince1970,
                demand.version, demand.publishedTo, demand.claimedBy, demand.claimedUnitID, demand.note, demand.source,
            ])
    }

    func update(_ demand: Demand) throws {
        try db.execute(
            sql: """
                UPDATE demands SET state = ?, state_since = ?, version = ?, published_to = ?, claimed_by = ?, claimed_unit = ?,
                                   note = ?, category = ? WHERE id = ?
                """,
            arguments: [
                demand.state.rawValue, demand.stateSince.timeIntervalSince1970, demand.version, demand.publishedTo,
                demand.claimedBy, demand.claimedUnitID, demand.note, demand.category, demand.id,
            ])
    }

    func demand(_ id: Int) throws -> Demand? {
        try Row.fetchOne(db, sql: "SELECT * FROM demands WHERE id = ?", arguments: [id]).flatMap(Self.demand(from:))
    }

    func demands(unitIDs: Set<String>, state: DemandState?) throws -> [Demand] {
        let sql = state == nil ? "SELECT * FROM demands ORDER BY created_at, id" : "SELECT * FROM demands WHERE state = ? ORDER BY created_at, id"
        let arguments: StatementArguments = state.map { [$0.rawValue] } ?? []
        return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
            unitIDs.contains(row["unit_id"] as String) ? Self.demand(from: row) : nil
        }
    }

    static func demand(from row: Row) -> Demand? {
        guard let state = DemandState(rawValue: row["state"]) else { return nil }
        var demand = Demand(
            id: row["id"], unitID: row["unit_id"], text: row["text"], category: row["category"],
            createdAt: date(row["created_at"] as Double), createdBy: row["created_by"], source: row["source"])
        demand.state = state
        demand.stateSince = date(row["state_since"] as Double)
        demand.version = row["version"]
        demand.publishedTo = row["published_to"]
        demand.claimedBy = row["claimed_by"]
        demand.claimedUnitID = row["claimed_unit"]
        demand.note = row["note"]
        return demand
    }

    func appendAudit(_ entry: AuditEntry) throws {
        try db.execute(
            sql: "INSERT INTO audit (at, actor, unit_id, action, detail, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [entry.at.timeIntervalSince1970, entry.actor, entry.unitID, entry.action, entry.detail, entry.outcome])
    }

    func auditEntries(limit: Int) throws -> [AuditEntry] {
        try fetchAll(sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.audit(from:))
    }
}

extension SQLiteStore {
    /// Audit entries for the operator's `leagueops audit`, newest first, filtered in the query (so
    /// `limit` counts matching rows): actions equal to `action` or starting with it when it ends in
    /// `.` or `*`, one unit, entries at or after `since`. Runs on a reader connection.
    public func auditLog(limit: Int, action: String? = nil, unitID: String? = nil, since: Date? = nil) async throws -> [AuditEntry] {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if var action, !action.isEmpty {
            if action.hasSuffix("*") { action.removeLast() }
            if action.hasSuffix(".") {
                clauses.append("substr(action, 1, ?) = ?")
                arguments += [action.count, action]
            } else {
                clauses.append("action = ?")
                arguments.append(action)
            }
        }
        if let unitID {
            clauses.append("unit_id = ?")
            arguments.append(unitID)
        }
        if let since {
            clauses.append("at >= ?")
            arguments.append(since.timeIntervalSince1970)
        }
        arguments.append(max(0, limit))
        let sql = "SELECT * FROM audit" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY id DESC LIMIT ?"
        let statementArguments = StatementArguments(arguments)
        return try await writer.read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(SQLiteTransaction.audit(from:))
        }
    }
}
