import Foundation
import GRDB
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Logging
import NIOConcurrencyHelpers
import Testing

/// Issue 10, the store side: timers that fail are retried (points 4, 8), read-only commands and
/// pages stay off the writer (point 3), the ingest queue is bounded (point 7), one writer per store
/// (point 5), retention, checkpoints and backups (point 10).
@Suite(.serialized)
struct StoreReliabilityTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// An engine over an in-memory store with extra timer kinds, and its clock.
    static func engine(extraTimers: [TimerKind: TimerHandler] = [:], store: (any Store)? = nil) throws -> (Engine, any Store, ManualClock) {
        let config = try ConfigLoader.load(path: writeTestConfig())
        let store = try store ?? SQLiteStore()
        let clock = ManualClock(t0)
        var adapters: [String: any PlatformAdapter] = [:]
        for (name, settings) in config.platforms { adapters[name] = try PlatformFactory.make(name: name, settings: settings) }
        var logger = Logger(label: "store-reliability")
        logger.logLevel = .critical
        return (Engine(config: config, store: store, clock: clock, adapters: adapters, logger: logger, extraTimers: extraTimers), store, clock)
    }

    static func timerRow(_ store: any Store, _ key: String) async throws -> (fired: Bool, attempts: Int, dead: String?, due: Double) {
        let sqlite = try #require(store as? SQLiteStore)
        return try await sqlite.writer.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT fired_at, attempts, dead_reason, due_at FROM timers WHERE key = ?", arguments: [key]))
            return ((row[0] as Double?) != nil, row[1], row[2], row[3])
        }
    }

    // MARK: Point 4 / 8: timers

    @Test func aFailingTimerIsRetriedWithBackoffAndItsEffectsRolledBack() async throws {
        let failures = NIOLockedValueBox(2)
        let flaky: TimerHandler = { t in
            try t.tx.enqueue(
                OutboundMessage(
                    key: "flaky:\(t.timer.key)", unitID: "d", group: GroupBinding(platform: "generic", chat: "chat-d"),
                    text: "due \(t.timer.dueAt.timeIntervalSince1970)"), at: t.now)
            let fail = failures.withLockedValue { left -> Bool in
                defer { left -= 1 }
                return left > 0
            }
            if fail { throw StoreUnavailable("disk hiccup") }
        }
        let (engine, store, clock) = try Self.engine(extraTimers: [TimerKind(rawValue: "flaky"): flaky])
        try await store.write { tx in try tx.schedule(TimerEntry(key: "flaky-1", dueAt: Self.t0, kind: TimerKind(rawValue: "flaky"), subject: "x", step: 0)) }

        try await engine.fireDueTimers()
        var row = try await Self.timerRow(store, "flaky-1")
        #expect(!row.fired, "a failing handler does not mark its timer fired")
        #expect(row.attempts == 1)
        #expect(row.due == Self.t0.timeIntervalSince1970 + 1, "retried after 1 s")
        #expect(try await store.read { try $0.outbox(key: "flaky:flaky-1") } == nil, "the failed attempt's writes are rolled back")
        var health = try await store.read { try $0.health(at: clock.now(), tolerance: 30) }
        #expect(health.retryingTimers == 1, "counted for /healthz")

        clock.advance(by: 1)
        try await engine.fireDueTimers()
        row = try await Self.timerRow(store, "flaky-1")
        #expect(!row.fired && row.attempts == 2)
        #expect(row.due == Self.t0.timeIntervalSince1970 + 1 + 2, "backoff doubles")

        clock.advance(by: 2)
        try await engine.fireDueTimers()
        row = try await Self.timerRow(store, "flaky-1")
        #expect(row.fired, "fired once the handler succeeds")
        let sent = try #require(try await store.read { try $0.outbox(key: "flaky:flaky-1") })
        #expect(sent.message.text == "due \(Self.t0.timeIntervalSince1970)", "the handler still sees the time the step was due")
        health = try await store.read { try $0.health(at: clock.now(), tolerance: 30) }
        #expect(health.retryingTimers == 0)
        #expect(Engine.timerBackoff(attempts: 30) == 300, "backoff is capped at 5 minutes")
    }

    @Test func timersThatCannotFireArePutAsideWithTheirReason() async throws {
        let (engine, store, clock) = try Self.engine()
        try await store.write { tx in
            try tx.schedule(TimerEntry(key: "mystery", dueAt: Self.t0, kind: TimerKind(rawValue: "no-such-kind"), subject: "1", step: 0))
            try tx.schedule(TimerEntry(key: "task:x:step:1", dueAt: Self.t0, kind: .taskStep, subject: "not-a-number", step: 1))
        }
        #expect(try await engine.fireDueTimers() == 2)
        let unknown = try await Self.timerRow(store, "mystery")
        #expect(unknown.dead == "unknown timer kind no-such-kind")
        let poison = try await Self.timerRow(store, "task:x:step:1")
        #expect(poison.dead?.contains("not-a-number") == true, "\(poison.dead ?? "nil")")
        let health = try await store.read { try $0.health(at: clock.now(), tolerance: 30) }
        #expect(health.deadTimers == 2, "counted for /healthz")
        #expect(health.overdueTimers == 0, "not due any more: never skipped forever")
        #expect(try await store.read { try $0.nextTimerDue() } ?? .distantFuture > clock.now().addingTimeInterval(60))
    }

    @Test func theMissingMinutesSummaryIsStillSentAfterARestartPastMidnight() async throws {
        let (engine, store, clock) = try Self.engine()
        let settings = engine.config.deliberation
        let month = DeliberationMonth(containing: Self.t0, timeZone: settings.timeZone)
        let timer = DeliberationSchedule.timer(.due, of: month, settings: settings)
        try await store.write { tx in try tx.schedule(timer) }
        // The bot was down from before 23:59 until 00:30 the next day.
        clock.set(timer.dueAt.addingTimeInterval(31 * 60))
        try await engine.fireDueTimers()
        let day = DeliberationSchedule.day(of: month, settings: settings)
        let notices = try await store.read { reader in try reader.dueOutbox(at: .distantFuture, limit: 100) }.filter { $0.message.key.contains(":missing:") }
        #expect(!notices.isEmpty, "the summary is sent after midnight")
        let date = DeliberationSchedule.dateText(day, language: engine.config.language)
        #expect(notices.allSatisfy { $0.message.text.contains(date) }, "it names the day it covers (\(date))")
    }

    // MARK: Point 3: reads never hold the writer

    @Test func readOnlyCommandsReadOnAReaderAndWriteOnlyTheirReply() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-ro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let bot = try await TestBot(
            configPath: try writeTestConfig(), mode: .engine, store: try SQLiteStore(path: folder.appendingPathComponent("bot.sqlite").path), instrumented: true)
        let counting = try #require(bot.instrumented)
        let (app, clock) = (bot.app, bot.clock)
        func say(_ text: String, _ id: String) async throws -> IngestResult {
            try await bot.submit(text, in: "chat-d", from: "u-d", id: id)
        }
        _ = try await say("收到", "w-1")
        #expect(counting.snapshots.withLockedValue { $0 } == 0, "a writing message is processed in the ingest transaction")
        for (index, text) in ["/进度", "/帮助", "/纪要", "/查询 任务", "/议程", "/诉求 列表"].enumerated() {
            let before = counting.snapshots.withLockedValue { $0 }
            guard case .stored(let id) = try await say(text, "r-\(index)") else {
                Issue.record("not stored: \(text)")
                continue
            }
            #expect(counting.snapshots.withLockedValue { $0 } == before + 1, "\(text) reads in a snapshot")
            let reply = try await counting.read { try $0.outbox(key: "in:\(id):reply") }
            #expect(reply != nil, "\(text) is answered by the time the webhook is")
            let expected = ["/议程": "议程", "/诉求 列表": "诉求"][text]
            if let expected, let body = reply?.message.text {
                #expect(body.contains(expected) && !body.contains("出错"), "\(text) answers its list: \(body)")
            }
            let processed = try await counting.base.writer.read { db in
                try Double.fetchOne(db, sql: "SELECT processed_at FROM inbound WHERE id = ?", arguments: [id])
            }
            #expect(processed != nil)
        }
        // Adding an agenda item or registering a demand writes: processed in the ingest transaction.
        for (index, text) in ["/议程 讨论暑托班场地", "/诉求 希望开办暑托班"].enumerated() {
            let before = counting.snapshots.withLockedValue { $0 }
            _ = try await say(text, "w-\(index + 2)")
            #expect(counting.snapshots.withLockedValue { $0 } == before, "\(text) is processed in the ingest transaction")
        }
        let audited = try await counting.base.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? -1 }
        #expect(audited >= 1, "the query's audit row is written")
        // Processing a read-only message again (the inbox service racing) does nothing twice.
        let record = InboundRecord(
            id: 2, message: ChatMessage(platform: "generic", chat: "chat-d", sender: "u-d", text: "/进度", messageID: "r-0", sentAt: clock.now()),
            receivedAt: clock.now())
        let outboxBefore = try await counting.base.rowCount("outbox")
        try await app.engine.processReadOnly(record)
        #expect(try await counting.base.rowCount("outbox") == outboxBefore)
    }

    @Test func unsignedMinutesRequestsWhileMessagesArriveAddNo503() async throws {
        let path = try writeTestConfig()
        let config = try ConfigLoader.load(path: path)
        // A heavy month of minutes: decoding it in the writer used to hold every webhook.
        let seed = try SQLiteStore(path: config.store.sqlitePath)
        let month = DeliberationMonth(containing: Date(), timeZone: config.deliberation.timeZone).description
        try await seed.write { tx in
            for id in 1...120 {
                var meeting = Meeting(
                    id: id, unitID: ["g1", "g2", "c1"][id % 3], unitName: "单位", month: month, title: "议事 \(id)", openedAt: Date(),
                    openedBy: MeetingPerson(memberID: "m-g1", name: "网格员一"), startInbound: 1)
                meeting.transcript = (0..<300).map { TranscriptLine(at: Date(), speaker: "网格员一", text: String(repeating: "发言内容", count: 20) + "\($0)") }
                meeting.closedAt = Date()
                try tx.save(meeting)
            }
        }
        try await withLiveBot(configPath: path, transport: FakeTransport(), answerWithin: 0.5) { bot in
            let stop = NIOLockedValueBox(false)
            let forbidden = NIOLockedValueBox(0)
            let readers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            while !stop.withLockedValue({ $0 }) {
                                if let (status, _) = try? await loopback("GET", port: bot.port, path: "/minutes/d/\(month)?subtree=1&sig=x", timeout: 10) {
                                    if status == 403 { forbidden.withLockedValue { $0 += 1 } }
                                }
                            }
                        }
                    }
                }
            }
            var statuses: [Int] = []
            for index in 0..<60 {
                statuses.append(try await bot.send("收到 \(index)", in: "chat-g1", from: "u-g1", id: "m-\(index)").0)
            }
            stop.withLockedValue { $0 = true }
            await readers.value
            #expect(statuses.filter { $0 == 503 }.isEmpty, "no webhook answered 503 while bad minutes links were looped: \(statuses.filter { $0 != 200 })")
            #expect(forbidden.withLockedValue { $0 } > 0, "the bad links were refused (403)")
        }
    }

    // MARK: Point 7: bounded ingest queue

    @Test func overTheIngestQueueCapWebhooksAreRefusedAtOnceAndNothingIsKept() async throws {
        let path = try writeTestConfig()
        let config = try ConfigLoader.load(path: path)
        let bot = try await TestBot(
            configPath: path, mode: .engine, store: try SQLiteStore(path: config.store.sqlitePath), answerWithin: 0.5,
            ingestQueue: (3, 1 << 20))
        let (app, store) = (bot.app, bot.store)
        let released = try await FaultStoreAndPlatformTimedTests.holdExclusiveLock(path: config.store.sqlitePath, seconds: 3)
        func message(_ id: Int) -> ChatMessage {
            ChatMessage(platform: "generic", chat: "chat-g1", sender: "u-g1", text: "收到", messageID: "cap-\(id)", sentAt: Date())
        }
        // The first becomes the stuck batch; three wait behind it; the fifth finds the queue full.
        var waiting = [Task { try await app.ingestor.submit(message(0)) }]
        // Let it be taken into a batch (stuck on the lock) before the others arrive.
        try await Task.sleep(for: .milliseconds(100))
        let taken = Date().addingTimeInterval(2)
        while app.ingestor.queued.count > 0, Date() < taken { try await Task.sleep(for: .milliseconds(5)) }
        waiting += (1..<4).map { id in Task { try await app.ingestor.submit(message(id)) } }
        let deadline = Date().addingTimeInterval(2)
        while app.ingestor.queued.count < 3, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(app.ingestor.queued.count == 3)
        let start = Date()
        await #expect(throws: StoreUnavailable.self) { try await app.ingestor.submit(message(4)) }
        #expect(Date().timeIntervalSince(start) < 0.2, "refused at once, not after the commit timeout")
        #expect(app.ingestor.queued.count == 3, "nothing of the refused message is kept")
        for task in waiting { _ = try? await task.value }
        for await _ in released {}
        // The ones that were queued commit once the store is free; the refused one never does.
        try? await waitFor("the queued messages committed", timeout: 10, signal: bot.changed) { try await store.rowCount("inbound") >= 4 }
        let ids = try await store.writer.read { db in try String.fetchAll(db, sql: "SELECT message_id FROM inbound ORDER BY message_id") }
        #expect(ids == ["cap-0", "cap-1", "cap-2", "cap-3"])
    }

    // MARK: Point 5: one writer

    @Test func aSecondLockOnTheSameStoreIsRefusedWithTheHoldersPid() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString).sqlite").path
        func holdAndTrySecond() throws {
            let first = try StoreLock(databasePath: path)
            do {
                _ = try StoreLock(databasePath: path)
                Issue.record("a second lock was granted")
            } catch let held as StoreLock.Held {
                #expect(held.description.contains("pid \(getpid())"), "\(held)")
                #expect(held.description.contains("twice"))
            }
            withExtendedLifetime(first) {}
        }
        try holdAndTrySecond()
        // Released with its holder: the next one gets it.
        _ = try StoreLock(databasePath: path)
    }

    // MARK: Point 10: retention, checkpoints

    /// The maintenance round comes every 10 minutes of the bot's clock: a test that moves the manual
    /// clock past it sees old texts blanked at once, without waiting 10 real minutes.
    @Test func theMaintenanceRoundRunsWhenTheClockPassesItsInterval() async throws {
        try await withLiveBot(configPath: try writeTestConfig(extra: "retention: {inbound: 1h}")) { bot in
            try await bot.say("一条会被清空的闲聊", in: "chat-g1", from: "u-g1", id: "chatter")
            try await bot.settle()
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'chatter' AND text != ''") == 1)
            bot.advance(3601)
            try await bot.wait("the text blanked by the maintenance round") {
                try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'chatter' AND text = ''") == 1
            }
        }
    }

    @Test func retentionBlanksOldTextsKeepsDedupeAndOpenMeetingsAndPrunesSentRows() async throws {
        let path = try writeTestConfig()
        try await withLiveBot(configPath: path) { bot in
            // A closed meeting in g1 and one still open in g2, each with chatter.
            try await bot.say("/议事 开始 九月议事", in: "chat-g1", from: "u-g1", id: "g1-open")
            try await bot.say("大家说说志愿服务的安排", in: "chat-g1", from: "u-g1", id: "g1-talk")
            try await bot.say("/议事 结束", in: "chat-g1", from: "u-g1", id: "g1-close")
            try await bot.say("/议事 开始 还在开的会", in: "chat-g2", from: "u-g2", id: "g2-open")
            try await bot.say("这条要进纪要", in: "chat-g2", from: "u-g2", id: "g2-talk")
            try await bot.settle()
            try await bot.store.write { tx in
                try tx.schedule(TimerEntry(key: "old-fired", dueAt: bot.clock.now(), kind: TimerKind(rawValue: "no-such-kind"), subject: "", step: 0))
                _ = try tx.markFired("old-fired", at: bot.clock.now())
            }
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") > 0)

            let later = bot.clock.now().addingTimeInterval(200 * 86_400)
            let report = try await bot.store.maintain(RetentionPolicy(inboundSeconds: 180 * 86_400, outboxSeconds: 30 * 86_400), now: later)
            let texts = try await bot.store.writer.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT message_id, text FROM inbound").map { ($0[0] as String, $0[1] as String) })
            }
            #expect(texts["g1-talk"] == "", "old texts are blanked")
            #expect(texts["g2-talk"] == "这条要进纪要", "messages of a meeting still open are kept for its transcript")
            #expect(report.blankedInbound >= 3)
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == 0, "sent outbox rows are pruned")
            #expect(try await bot.count("SELECT COUNT(*) FROM timers WHERE key = 'old-fired'") == 0, "fired timers are pruned")
            #expect(report.walFramesLeft <= 0 || report.walFramesLeft == 0)

            // The closed meeting's transcript survives retention.
            let minutes = try await bot.store.snapshot { tx in try tx.minutes(unitIDs: ["g1"], month: nil) }
            #expect(minutes.first?.transcript.contains { $0.text == "大家说说志愿服务的安排" } == true)
            // The dedupe key stays: the platform's late retry is a duplicate, not a new message.
            let before = try await bot.inboundCount()
            #expect(try await bot.say("大家说说志愿服务的安排", in: "chat-g1", from: "u-g1", id: "g1-talk") == 200)
            #expect(try await bot.inboundCount() == before)
            // The open meeting closes later with its full transcript.
            try await bot.say("/议事 结束", in: "chat-g2", from: "u-g2", id: "g2-close")
            try await bot.settle()
            let open = try await bot.store.snapshot { tx in try tx.minutes(unitIDs: ["g2"], month: nil) }
            #expect(open.first?.transcript.contains { $0.text == "这条要进纪要" } == true)
        }
    }

    @Test func retentionKeysAreReadAndUnknownOnesReported() throws {
        let path = try writeTestConfig(extra: "retention: {inbound: 90d, outbox: 10d}")
        let config = try ConfigLoader.load(path: path)
        #expect(config.retention.inboundSeconds == 90 * 86_400)
        #expect(config.retention.outboxSeconds == 10 * 86_400)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: try writeTestConfig(extra: "retention: {inbox: 90d}")) }
        let defaults = try ConfigLoader.load(path: try writeTestConfig())
        #expect(defaults.retention.inboundSeconds == 180 * 86_400 && defaults.retention.outboxSeconds == 30 * 86_400)
    }

    @Test func aRestoreMarksWhatTheFailedStoreDeliveredAfterTheBackup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let live = folder.appendingPathComponent("live.sqlite").path
        let store = try SQLiteStore(path: live)
        let group = GroupBinding(platform: "generic", chat: "chat-d")
        try await store.write { tx in
            try tx.enqueue(OutboundMessage(key: "k1", unitID: "d", group: group, text: "一"), at: Self.t0)
            try tx.enqueue(OutboundMessage(key: "k2", unitID: "d", group: group, text: "二"), at: Self.t0)
        }
        let backup = folder.appendingPathComponent("backup.sqlite").path
        try SQLiteStore.backup(databasePath: live, to: backup)
        #expect(throws: BackupError.self) { try SQLiteStore.backup(databasePath: live, to: backup) }
        // After the backup, k1 was delivered; then the live store was lost.
        let k1 = try #require(try await store.read { try $0.outbox(key: "k1") })
        try await store.write { tx in try tx.markSent(k1.id, at: Self.t0.addingTimeInterval(5)) }
        let restored = folder.appendingPathComponent("restored.sqlite").path
        try SQLiteStore.backup(databasePath: backup, to: restored)
        let marked = try SQLiteStore.reconcile(restored: restored, with: live)
        #expect(marked.outbox == 1)
        let states = try readDatabase(restored) { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, state FROM outbox").map { ($0[0] as String, $0[1] as String) })
        }
        #expect(states == ["k1": "sent", "k2": "pending"], "only what was not delivered is sent after the restore")
    }
}
