import Foundation
import GRDB
import LeagueCore

extension SQLiteTransaction: DeliberationRecords {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func decodeMeeting(_ row: Row) -> Meeting? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(Meeting.self, from: Data((row["body"] as String).utf8))
    }

    func nextMeetingID() throws -> Int {
        (try Int.fetchOne(db, sql: "SELECT MAX(id) FROM delib_meetings") ?? 0) + 1
    }

    func save(_ meeting: Meeting) throws {
        let body = String(decoding: try Self.encoder.encode(meeting), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO delib_meetings (id, unit_id, month, opened_at, closed_at, body) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET month = excluded.month, closed_at = excluded.closed_at, body = excluded.body
                """,
            arguments: [
                meeting.id, meeting.unitID, meeting.month, meeting.openedAt.timeIntervalSince1970,
                meeting.closedAt?.timeIntervalSince1970, body,
            ])
    }

    func meeting(_ id: Int) throws -> Meeting? {
        try Row.fetchOne(db, sql: "SELECT body FROM delib_meetings WHERE id = ?", arguments: [id]).flatMap(Self.decodeMeeting)
    }

    func openMeeting(unitID: String) throws -> Meeting? {
        try Row.fetchOne(db, sql: "SELECT body FROM delib_meetings WHERE unit_id = ? AND closed_at IS NULL", arguments: [unitID])
            .flatMap(Self.decodeMeeting)
    }

    func minutes(unitIDs: [String], month: String?) throws -> [Meeting] {
        guard !unitIDs.isEmpty else { return [] }
        let wanted = Set(unitIDs)
        let rows =
            try month.map {
                try fetchAll(
                    sql: "SELECT unit_id, body FROM delib_meetings WHERE closed_at IS NOT NULL AND month = ? ORDER BY opened_at, id", arguments: [$0])
            } ?? fetchAll(sql: "SELECT unit_id, body FROM delib_meetings WHERE closed_at IS NOT NULL ORDER BY opened_at, id")
        return rows.filter { wanted.contains($0["unit_id"]) }.compactMap(Self.decodeMeeting)
    }

    func unitsWithMinutes(month: String) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT DISTINCT unit_id FROM delib_meetings WHERE closed_at IS NOT NULL AND month = ?", arguments: [month]))
    }

    func inbound(platform: String, chat: String, after: Int64, through: Int64) throws -> [InboundRecord] {
        try fetchAll(
            sql: "SELECT * FROM inbound WHERE platform = ? AND chat = ? AND id > ? AND id <= ? ORDER BY id",
            arguments: [platform, chat, after, through]
        ).map(Self.inbound(from:))
    }

    func lastInboundID(platform: String, chat: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM inbound WHERE platform = ? AND chat = ?", arguments: [platform, chat]) ?? 0
    }

    func insert(_ item: AgendaItem) throws {
        let by = String(decoding: try Self.encoder.encode(item.addedBy), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO delib_agenda (unit_id, month, text, added_by, source_unit, added_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [item.unitID, item.month, item.text, by, item.sourceUnitID, item.addedAt.timeIntervalSince1970])
    }

    private static func agendaItem(_ row: Row) -> AgendaItem {
        let by = (try? JSONDecoder().decode(MeetingPerson.self, from: Data((row["added_by"] as String).utf8))) ?? MeetingPerson(memberID: nil, name: "?")
        return AgendaItem(
            id: row["id"], unitID: row["unit_id"], month: row["month"], text: row["text"], addedBy: by,
            sourceUnitID: row["source_unit"], addedAt: date(row["added_at"] as Double))
    }

    func agenda(unitID: String, month: String) throws -> [AgendaItem] {
        try Row.fetchAll(db, sql: "SELECT * FROM delib_agenda WHERE unit_id = ? AND month = ? ORDER BY id", arguments: [unitID, month]).map(Self.agendaItem)
    }

    func agendaCount(unitID: String, month: String) throws -> Int {
        // Every /议程 answers with its item number: reading and decoding every item of the month for
        // it made each /议程 slower than the one before (issue 16).
        try value(Int.self, sql: "SELECT COUNT(*) FROM delib_agenda WHERE unit_id = ? AND month = ?", arguments: [unitID, month]) ?? 0
    }

    func agenda(addedBy sourceUnitID: String, month: String) throws -> [AgendaItem] {
        try Row.fetchAll(db, sql: "SELECT * FROM delib_agenda WHERE source_unit = ? AND month = ? ORDER BY id", arguments: [sourceUnitID, month]).map(Self.agendaItem)
    }

    func insert(_ followUp: FollowUp) throws {
        try db.execute(
            sql: """
                INSERT INTO delib_followups (unit_id, kind, text, owner_name, task_id, demand_ref, meeting_id, created_at, closed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                followUp.unitID, followUp.kind.rawValue, followUp.text, followUp.ownerName, followUp.taskID, followUp.demandRef,
                followUp.meetingID, followUp.createdAt.timeIntervalSince1970, followUp.closedAt?.timeIntervalSince1970,
            ])
    }

    func openFollowUps(unitID: String) throws -> [FollowUp] {
        try Row.fetchAll(db, sql: "SELECT * FROM delib_followups WHERE unit_id = ? AND closed_at IS NULL ORDER BY id", arguments: [unitID]).map { row in
            FollowUp(
                id: row["id"], unitID: row["unit_id"], kind: FollowUp.Kind(rawValue: row["kind"]) ?? .action, text: row["text"],
                ownerName: row["owner_name"], taskID: row["task_id"], demandRef: row["demand_ref"], meetingID: row["meeting_id"],
                createdAt: Self.date(row["created_at"] as Double), closedAt: Self.date(row["closed_at"] as Double?))
        }
    }

    func closeFollowUps(_ ids: [Int64], at: Date) throws {
        let statement = try db.cachedStatement(sql: "UPDATE delib_followups SET closed_at = ? WHERE id = ? AND closed_at IS NULL")
        for id in ids { try statement.execute(arguments: [at.timeIntervalSince1970, id]) }
    }

    func closeDemandFollowUps(demandRef: String, at: Date) throws -> Int {
        try db.execute(
            sql: "UPDATE delib_followups SET closed_at = ? WHERE kind = 'demand' AND demand_ref = ? AND closed_at IS NULL",
            arguments: [at.timeIntervalSince1970, demandRef])
        return db.changesCount
    }

    func deliberationValue(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM delib_values WHERE key = ?", arguments: [key])
    }

    func setDeliberationValue(_ key: String, _ value: String) throws {
        try db.execute(
            sql: "INSERT INTO delib_values (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }
}
