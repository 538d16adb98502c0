import Foundation
import GRDB
import LeagueCore
import LeagueStore
import Synchronization
import Testing

/// Issue 16: what one message costs must not grow with what the store holds. Every statement the
/// ingest path and the services run per message is captured as it executes, and its query plan may
/// read a table only by key or through a partial index (whose rows are the open or pending ones,
/// not the history): never a scan of a whole table or of a full index.
struct HotPathPlanTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// The statements of a 收到, a /任务 with its notices and timer, a /议程, a /进度, the outbox's
    /// and the timers' rounds and the health check, as the store runs them.
    private func hotStatements(_ store: SQLiteStore) async throws -> [String] {
        let captured = Mutex<[String]>([])
        try await store.writer.write { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { captured.withLock { $0.append(statement.sql) } }
            }
        }
        let group = GroupBinding(platform: "generic", chat: "chat-g1")
        let t0 = t0
        let message = ChatMessage(platform: "generic", chat: "chat-g1", sender: "u-g1", text: "收到", messageID: "m1", sentAt: t0)
        _ = try await store.ingest([InboundRecord(message: message, receivedAt: t0)]) { record, tx in
            // /任务: a task, its targets, notices, a timer and events; the delivery forecast's read.
            let id = try tx.nextTaskID()
            try tx.insert(
                WorkTask(
                    id: id, kind: .dispatch, urgent: false, text: "核对名单", issuerID: "m-c1", issuerName: "社区",
                    issuerUnitID: "c1", createdAt: t0, targetSeconds: 600))
            try tx.insert([TaskTarget(taskID: id, unitID: "g1"), TaskTarget(taskID: id, unitID: "g2")])
            try tx.enqueue(OutboundMessage(key: "task:\(id):notice:g1", unitID: "g1", group: group, text: "新任务"), at: t0)
            _ = try tx.pendingDeliveries(robots: [group.robotID])
            try tx.schedule(.taskStep(id, step: 0, at: t0.addingTimeInterval(300)))
            try tx.append(EventRecord(at: t0, kind: .taskCreated, taskID: id, unitID: "c1"))
            // 收到: the oldest waiting target, its task, the update and the event.
            if let target = try tx.oldestWaitingTarget(unitID: "g1"), let task = try tx.task(target.taskID) {
                var acked = target
                acked.acknowledgedAt = t0
                try tx.update(acked)
                _ = try tx.targets(ofTask: task.id)
            }
            // /议程 and /进度.
            try tx.insert(
                AgendaItem(
                    unitID: "g1", month: "2027-01", text: "议题", addedBy: MeetingPerson(memberID: "m-g1", name: "网格员"),
                    sourceUnitID: "g1", addedAt: t0))
            _ = try tx.agendaCount(unitID: "g1", month: "2027-01")
            _ = try tx.openTasks(involving: "g1", limit: 20)
            _ = try tx.openMeeting(unitID: "g1")
            try tx.savepoint {}
            try tx.markProcessed(record.id, at: t0)
        }
        // The outbox and timer services' rounds, and the health check.
        let due = try await store.read { tx in
            _ = try tx.nextOutboxDue()
            _ = try tx.nextTimerDue()
            _ = try tx.health(at: t0, tolerance: 30)
            _ = try tx.dueTimers(at: t0.addingTimeInterval(3600), limit: 500)
            return try tx.dueOutbox(at: t0, limit: 512)
        }
        try await store.write { tx in
            for entry in due { try tx.markSent(entry.id, at: t0) }
            _ = try tx.markFired("no-such-timer", at: t0)
        }
        try await store.writer.write { db in db.trace(options: .statement, nil) }
        return captured.withLock { $0 }
    }

    @Test func noStatementOnTheIngestPathReadsTheWholeHistory() async throws {
        let store = try SQLiteStore()
        let statements = try await hotStatements(store)
        #expect(statements.contains { $0.contains("FROM tasks WHERE status = 'open' AND") }, "/进度's open tasks were captured")
        #expect(statements.contains { $0.contains("COUNT(*) FROM delib_agenda") }, "/议程's count was captured")
        #expect(statements.contains { $0.contains("state = 'dead'") }, "the health check was captured")
        let (partial, plans) = try await store.writer.read { db in
            let partial = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'"))
            var plans: [(String, [String])] = []
            for sql in Set(statements) where ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(where: { sql.uppercased().hasPrefix($0) }) {
                // NULL for every parameter: the plan is the same as with values.
                let numbered = sql.split(separator: "?").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }.max()
                let nulls = [DatabaseValue](repeating: .null, count: numbered ?? sql.filter { $0 == "?" }.count)
                plans.append((sql, try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(nulls)).map { $0["detail"] as String }))
            }
            return (partial, plans)
        }
        #expect(plans.count >= 20, "\(plans.count) statements")
        for (sql, details) in plans {
            for detail in details where detail.hasPrefix("SCAN ") {
                let index = detail.components(separatedBy: " INDEX ").dropFirst().first?.split(separator: " ").first.map(String.init)
                #expect(index.map(partial.contains) == true, "a scan of history: \(detail) in \(sql)")
            }
            #expect(!details.contains { $0.contains("TEMP B-TREE") }, "sorted on every call: \(details) in \(sql)")
        }
    }

    /// The steps of the query plan SQLite picks for `sql`.
    private func plan(_ store: SQLiteStore, _ sql: String, _ arguments: StatementArguments = []) async throws -> String {
        try await store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }.joined(separator: "; ")
        }
    }

    @Test func dueOutboxIsReadInSendOrderWithoutSortingTheBacklog() async throws {
        let sql = "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY priority, id LIMIT ?"
        let plan = try await plan(SQLiteStore(), sql, [0, 512])
        #expect(plan.contains("outbox_due_order") && !plan.contains("TEMP B-TREE"), "\(plan)")
    }

    @Test func theHealthCheckCountsDeadMessagesAndTimersInTheirOwnIndexes() async throws {
        let store = try SQLiteStore()
        let outbox = try await plan(store, "SELECT COUNT(*) FROM outbox WHERE state = 'dead'")
        let timers = try await plan(store, "SELECT COUNT(*) FROM timers WHERE dead_reason IS NOT NULL")
        #expect(outbox.contains("outbox_dead"), "\(outbox)")
        #expect(timers.contains("timers_dead"), "\(timers)")
    }

    /// Every screened command counts its sender's privacy refusals of the last hour: a seek in the
    /// refusals' own partial index, not a range over every event of the hour (events_at).
    @Test func thePrivacyRefusalCountSeeksItsOwnIndex() async throws {
        let store = try SQLiteStore()
        let plan = try await plan(store, "SELECT COUNT(*) FROM events WHERE kind = 'privacy.refused' AND member_id = ? AND at >= ?", ["m-1", 0])
        #expect(plan.contains("events_privacy_refused"), "\(plan)")
        // And the store method answers through it.
        let now = Date()
        try await store.write { tx in
            for _ in 0..<3 { try tx.append(EventRecord(at: now, kind: .privacyRefused, memberID: "m-1", data: [:])) }
            try tx.append(EventRecord(at: now, kind: .taskCreated, memberID: "m-1", data: [:]))
            try tx.append(EventRecord(at: now.addingTimeInterval(-7200), kind: .privacyRefused, memberID: "m-1", data: [:]))
        }
        #expect(try await store.write { try $0.countPrivacyRefusals(memberID: "m-1", since: now.addingTimeInterval(-3600)) } == 3)
    }
}
