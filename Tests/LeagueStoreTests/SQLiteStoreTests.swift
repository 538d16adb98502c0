import Foundation
import GRDB
import LeagueCore
import LeagueStore
import Synchronization
import Testing

private struct Boom: Error {}

struct SQLiteStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let group = GroupBinding(platform: "generic", chat: "chat-a")

    func message(_ id: String, text: String = "收到") -> ChatMessage {
        ChatMessage(platform: "generic", chat: "chat-a", sender: "u-a", text: text, messageID: id, sentAt: t0)
    }

    @Test func ingestDeduplicatesByPlatformMessageID() async throws {
        let store = try SQLiteStore()
        let first = try await store.ingest([InboundRecord(message: message("m1"), receivedAt: t0), InboundRecord(message: message("m2"), receivedAt: t0)]) { _, _ in }
        #expect(first.count == 2 && !first.contains(.duplicate))
        let again = try await store.ingest([InboundRecord(message: message("m1"), receivedAt: t0)]) { _, _ in }
        #expect(again == [.duplicate])
        var other = message("m1")
        other.platform = "wecom"
        #expect(try await store.ingest([InboundRecord(message: other, receivedAt: t0)]) { _, _ in }.first != .duplicate, "ids are per platform")
        let pending = try await store.read { try $0.unprocessedInbound(limit: 10) }
        #expect(pending.map(\.message.messageID) == ["m1", "m2", "m1"])
        #expect(pending[0].receivedAt == t0 && pending[0].message.text == "收到")
    }

    /// The outbox and timer services are woken by the commits that gave them something (issue 16): a
    /// 收到 that only updates a target wakes neither; a rolled-back transaction wakes nobody.
    @Test func commitsTellTheOutboxAndTimersOnlyWhenTheyAddedRowsForThem() async throws {
        let store = try SQLiteStore()
        let heard = Mutex<[String]>([])
        store.onCommit(outbox: { heard.withLock { $0.append("outbox") } }, timers: { heard.withLock { $0.append("timers") } })
        _ = try await store.ingest([InboundRecord(message: message("m1"), receivedAt: t0)]) { _, _ in }
        #expect(heard.withLock { $0 } == [])
        _ = try await store.ingest([InboundRecord(message: message("m2"), receivedAt: t0)]) { record, tx in
            try tx.enqueue(OutboundMessage(key: "reply:\(record.id)", unitID: "a", group: group, text: "已收到"), at: self.t0)
        }
        #expect(heard.withLock { $0 } == ["outbox"])
        try await store.write { tx in try tx.schedule(TimerEntry(key: "t1", dueAt: self.t0, kind: .taskStep, subject: "1", step: 0)) }
        #expect(heard.withLock { $0 } == ["outbox", "timers"])
        await #expect(throws: Boom.self) {
            try await store.write { tx in
                try tx.enqueue(OutboundMessage(key: "never", unitID: "a", group: group, text: "x"), at: self.t0)
                throw Boom()
            }
        }
        #expect(heard.withLock { $0 } == ["outbox", "timers"], "a rollback tells nobody")
    }

    @Test func aMessageAndWhatItsProcessingWroteCommitTogetherOrNotAtAll() async throws {
        let store = try SQLiteStore()
        await #expect(throws: Boom.self) {
            _ = try await store.ingest([InboundRecord(message: self.message("m1"), receivedAt: self.t0)]) { record, tx in
                try tx.enqueue(OutboundMessage(key: "reply:\(record.id)", unitID: "a", group: group, text: "已收到"), at: self.t0)
                throw Boom()
            }
        }
        #expect(try await store.read { try $0.unprocessedInbound(limit: 10) }.isEmpty, "the message rolled back with its effects")
        #expect(try await store.read { try $0.dueOutbox(at: .distantFuture, limit: 10) }.isEmpty)

        let results = try await store.ingest([InboundRecord(message: message("m1"), receivedAt: t0)]) { record, tx in
            #expect(record.id > 0, "processing sees the stored id")
            try tx.enqueue(OutboundMessage(key: "reply:\(record.id)", unitID: "a", group: group, text: "已收到"), at: self.t0)
            try tx.markProcessed(record.id, at: self.t0)
        }
        guard case .stored(let id) = results.first else { Issue.record("not stored: \(results)"); return }
        #expect(try await store.read { try $0.outbox(key: "reply:\(id)") }?.message.text == "已收到")
        #expect(try await store.read { try $0.unprocessedInbound(limit: 10) }.isEmpty)
        // A duplicate is not processed again.
        let again = try await store.ingest([InboundRecord(message: message("m1"), receivedAt: t0)]) { _, _ in Issue.record("processed a duplicate") }
        #expect(again == [.duplicate])
    }

    @Test func aTimerFiresOnceAndItsKeyIsNeverScheduledTwice() async throws {
        let store = try SQLiteStore()
        let timer = TimerEntry.taskStep(1, step: 0, at: t0)
        try await store.write { tx in
            try tx.schedule(timer)
            try tx.schedule(TimerEntry.taskStep(1, step: 0, at: Date(timeIntervalSince1970: 0)))
        }
        let due = try await store.read { try $0.dueTimers(at: Date(timeIntervalSince1970: 1_800_000_001), limit: 10) }
        #expect(due == [timer], "the second schedule with the same key was ignored")
        let fired = try await store.write { tx in [try tx.markFired(timer.key, at: Date()), try tx.markFired(timer.key, at: Date())] }
        #expect(fired == [true, false])
        try await store.write { tx in try tx.schedule(timer) }
        #expect(try await store.read { try $0.dueTimers(at: Date(), limit: 10) }.isEmpty, "a fired timer is not re-armed")
    }

    @Test func outboxKeysAreUniqueAndStatesMove() async throws {
        let store = try SQLiteStore()
        let urgent = OutboundMessage(key: "k-urgent", unitID: "a", group: group, text: "急", priority: .urgent)
        let routine = OutboundMessage(key: "k-routine", unitID: "a", group: group, text: "常规")
        try await store.write { tx in
            try tx.enqueue(routine, at: self.t0)
            try tx.enqueue(urgent, at: self.t0)
            try tx.enqueue(OutboundMessage(key: "k-routine", unitID: "a", group: group, text: "重复"), at: self.t0)
        }
        let due = try await store.read { try $0.dueOutbox(at: self.t0, limit: 10) }
        #expect(due.map(\.message.key) == ["k-urgent", "k-routine"], "urgent first, duplicates ignored")
        #expect(due[1].message.text == "常规")
        try await store.write { tx in
            try tx.markSent(due[0].id, at: self.t0)
            try tx.markRetry(due[1].id, attempts: 1, next: self.t0.addingTimeInterval(5), error: "HTTP 500")
        }
        #expect(try await store.read { try $0.dueOutbox(at: self.t0, limit: 10) }.isEmpty)
        #expect(try await store.read { try $0.nextOutboxDue() } == t0.addingTimeInterval(5))
        let health = try await store.read { try $0.health(at: self.t0.addingTimeInterval(100), tolerance: 30) }
        #expect(health.pendingOutbox == 1 && health.overdueOutbox == 1)
    }

    @Test func aFailingSavepointUndoesOnlyItsOwnWrites() async throws {
        let store = try SQLiteStore()
        try await store.write { tx in
            try tx.append(EventRecord(at: self.t0, kind: EventKind(rawValue: "kept")))
            try? tx.savepoint {
                try tx.append(EventRecord(at: self.t0, kind: EventKind(rawValue: "undone")))
                throw Boom()
            }
        }
        let events = try await store.read { try $0.events(from: self.t0, to: self.t0.addingTimeInterval(1)) }
        #expect(events.map(\.kind.rawValue) == ["kept"])
    }

    @Test func eventDataRoundTripsWhateverItHolds() async throws {
        let store = try SQLiteStore()
        let data = ["note": "他说：\"收到\"\\ok\n第二行\t\u{01}\u{1F}/end", "": "empty key", "emoji": "👍🏻", "z": ""]
        try await store.write { tx in
            try tx.append(EventRecord(at: self.t0, kind: EventKind(rawValue: "odd"), taskID: 7, unitID: "g1", memberID: "m-g1", data: data))
            try tx.append(EventRecord(at: self.t0, kind: EventKind(rawValue: "plain")))
        }
        let events = try await store.read { try $0.events(from: self.t0, to: self.t0.addingTimeInterval(1)) }
        #expect(events.map(\.data) == [data, [:]])
        #expect(events.first?.taskID == 7 && events.first?.memberID == "m-g1")
    }

    @Test func tasksAndTargetsRoundTrip() async throws {
        let store = try SQLiteStore()
        var task = WorkTask(id: 1, kind: .dispatch, urgent: true, text: "测试", issuerID: "m-a", issuerName: "甲", issuerUnitID: "a", createdAt: t0, targetSeconds: 180)
        try await store.write { [task] tx in
            #expect(try tx.nextTaskID() == 1)
            try tx.insert(task)
            try tx.insert([TaskTarget(taskID: 1, unitID: "b"), TaskTarget(taskID: 1, unitID: "c")])
        }
        let waiting = try await store.read { try $0.oldestWaitingTarget(unitID: "c") }
        #expect(waiting?.taskID == 1)
        var target = try #require(waiting)
        target.acknowledgedAt = t0.addingTimeInterval(10)
        target.toldUnitIDs = ["a", "root"]
        task.status = .done
        try await store.write { [task, target] tx in
            try tx.update(target)
            try tx.update(task)
        }
        let loaded = try await store.read { tx in (try tx.task(1), try tx.targets(ofTask: 1)) }
        #expect(loaded.0?.status == .done)
        #expect(loaded.1.first { $0.unitID == "c" }?.toldUnitIDs == ["a", "root"])
        #expect(try await store.read { try $0.oldestWaitingTarget(unitID: "b") } == nil, "a closed task waits for nobody")
    }

    /// The dashboard's running month figures: a range read in chunks from position 0, then only what
    /// was appended since, whatever the other months hold.
    @Test func eventsOfARangeAreReadInChunksAndThenOnlyTheNewOnes() async throws {
        let store = try SQLiteStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString).sqlite").path)
        let month = (t0, t0.addingTimeInterval(30 * 86_400))
        @Sendable func event(_ n: Int, _ at: Date) -> EventRecord { EventRecord(at: at, kind: .taskAck, taskID: n, unitID: "g1", data: ["seconds": "\(n)"]) }
        try await store.write { tx in
            try tx.append(event(900, self.t0.addingTimeInterval(-10)))  // the month before
            for n in 1...7 { try tx.append(event(n, self.t0.addingTimeInterval(Double(n)))) }
            try tx.append(event(901, self.t0.addingTimeInterval(40 * 86_400)))  // the month after
        }
        func readAll(from position: Int64) async throws -> ([Int], Int64) {
            var seen: [Int] = []
            var position = position
            while true {
                let after = position
                let (events, next) = try await store.read { try $0.events(from: month.0, to: month.1, after: after, limit: 3) }
                seen += events.compactMap(\.taskID)
                position = next
                if events.count < 3 { return (seen, position) }
            }
        }
        let (first, position) = try await readAll(from: 0)
        #expect(first == Array(1...7))
        #expect(try await readAll(from: position).0.isEmpty)
        try await store.write { tx in
            try tx.append(event(8, self.t0.addingTimeInterval(8)))
            try tx.append(event(902, self.t0.addingTimeInterval(-20)))
            try tx.append(event(9, self.t0.addingTimeInterval(9)))
        }
        #expect(try await readAll(from: position).0 == [8, 9])
        // An empty range remembers where the log ended, so a later event in it is found.
        let empty = (t0.addingTimeInterval(60 * 86_400), t0.addingTimeInterval(90 * 86_400))
        let (none, end) = try await store.read { try $0.events(from: empty.0, to: empty.1, after: 0, limit: 3) }
        #expect(none.isEmpty)
        try await store.write { tx in try tx.append(event(10, empty.0.addingTimeInterval(1))) }
        #expect(try await store.read { try $0.events(from: empty.0, to: empty.1, after: end, limit: 3) }.events.compactMap(\.taskID) == [10])
    }

    @Test func aFullDiskIsReportedAsUnavailable() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString).sqlite").path
        let store = try SQLiteStore(path: path)
        let pages = try await store.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
        try await store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = \(pages + 1)") }
        let big = String(repeating: "长", count: 20_000)
        await #expect(throws: StoreUnavailable.self) {
            _ = try await store.ingest((0..<50).map { InboundRecord(message: self.message("m\($0)", text: big), receivedAt: self.t0) }) { _, _ in }
        }
        #expect(try await store.read { try $0.unprocessedInbound(limit: 100) }.isEmpty, "nothing half-written")
    }
}

@Suite("Connection leases in SQLite")
struct ConnectionLeaseStoreTests {
    /// A message to robot `robot`'s group, of the unit with the same id.
    func outbound(_ key: String, to robot: String, text: String = "通知", priority: Priority = .routine) -> OutboundMessage {
        OutboundMessage(key: key, unitID: robot, group: GroupBinding(platform: "generic", chat: robot), text: text, priority: priority)
    }

    @Test func oneHolderAtATimeWithAGrowingFencingToken() async throws {
        let store = try SQLiteStore()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let a = try await store.acquireLease("dingtalk:app", holder: "a", now: t0, ttl: 30)
        #expect(a?.token == 1)
        #expect(try await store.acquireLease("dingtalk:app", holder: "b", now: t0.addingTimeInterval(5), ttl: 30) == nil)
        #expect(try await store.acquireLease("dingtalk:app", holder: "a", now: t0.addingTimeInterval(5), ttl: 30)?.token == 1)
        try await store.releaseLease("dingtalk:app", holder: "a", token: 1)
        let b = try await store.acquireLease("dingtalk:app", holder: "b", now: t0.addingTimeInterval(6), ttl: 30)
        #expect(b?.holder == "b")
        #expect(b?.token == 2)
        // A late release with the old token changes nothing.
        try await store.releaseLease("dingtalk:app", holder: "a", token: 1)
        #expect(try await store.acquireLease("dingtalk:app", holder: "a", now: t0.addingTimeInterval(7), ttl: 30) == nil)
    }

    /// An outbox round decodes only the rows of the robots it can start now: a backlog of a thousand
    /// groups is not decoded again every round (issue 16: most of a /任务's cost in the in-process bench).
    @Test func dueOutboxDecodesOnlyTheRobotsARoundCanStart() async throws {
        let store = try SQLiteStore()
        let now = Date()
        try await store.write { tx in
            for robot in ["a", "b", "c"] {
                for index in 1...2 {
                    try tx.enqueue(outbound("\(robot)-\(index)", to: robot), at: now)
                }
            }
        }
        // Robot c's first row no longer decodes: not looked at while c is not chosen.
        try await store.writer.write { db in try db.execute(sql: "UPDATE outbox SET payload = x'00' WHERE key = 'c-1'") }
        let two = try await store.read { try $0.dueOutbox(at: now, limit: 64, excludingRobots: [], maxRobots: 2) }
        #expect(two.entries.map(\.message.key) == ["a-1", "a-2", "b-1", "b-2"])
        #expect(two.undecodable.isEmpty)
        let all = try await store.read { try $0.dueOutbox(at: now, limit: 64, excludingRobots: ["generic:a"], maxRobots: 10) }
        #expect(all.entries.map(\.message.key) == ["b-1", "b-2", "c-2"])
        #expect(all.undecodable.map(\.key) == ["c-1"])
    }

    /// Issue 16: a robot with a backlog gets a batch of its due rows in one round, not one row per
    /// round; robots are chosen in send order (urgent first) and each robot's rows come in send order.
    @Test func dueOutboxReadsABatchOfEachChosenRobotInSendOrder() async throws {
        let store = try SQLiteStore()
        let now = Date()
        try await store.write { tx in
            for index in 1...5 {
                for robot in ["a", "b", "c"] {
                    try tx.enqueue(outbound("\(robot)-\(index)", to: robot), at: now)
                }
            }
            try tx.enqueue(outbound("c-urgent", to: "c", text: "紧急", priority: .urgent), at: now)
            // Not due yet: never read.
            try tx.enqueue(outbound("a-later", to: "a", text: "稍后"), at: now.addingTimeInterval(60))
        }
        let due = try await store.read { try $0.dueOutbox(at: now, limit: 3, excludingRobots: [], maxRobots: 2) }
        #expect(due.entries.map(\.message.key) == ["c-urgent", "a-1", "c-1", "a-2", "c-2", "a-3"])
        let more = try await store.read { try $0.dueOutbox(at: now, limit: 10, excludingRobots: ["generic:c"], maxRobots: 5) }
        #expect(more.entries.map(\.message.key) == ["a-1", "b-1", "a-2", "b-2", "a-3", "b-3", "a-4", "b-4", "a-5", "b-5"])
    }
}
