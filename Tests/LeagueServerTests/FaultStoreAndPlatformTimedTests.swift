import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Testing

/// The platform failing, the database locked or full, and the auditor — in process, on loopback.
@Suite(.serialized, .tags(.timed))
struct FaultStoreAndPlatformTimedTests {
    @Test func platformFailuresThenRecoveryLoseNothing() async throws {
        let transport = FakeTransport()
        // Refused, 500, timeout, rate limit: every kind fails at least once before the platform recovers.
        transport.fail([.refused, .status(500), .timeout, .status(429), .status(503), .refused])
        let path = try writeTestConfig()
        try await withLiveBot(configPath: path, transport: transport) { bot in
            let (status, _) = try await bot.send("/任务 紧急 @全部 平台故障演练", in: "chat-d", from: "u-d")
            #expect(status == 200)
            let expected: Set<String> = ["task:1:notice:t1", "task:1:notice:t2"]
            // Move time past backoffs and the 60 s rate-limit pause until everything is delivered.
            try await bot.advance(5, until: "all notices delivered after the platform recovered") {
                let unsent = try await bot.count("SELECT COUNT(*) FROM outbox WHERE state != 'sent' AND key NOT LIKE 'task:1:step:%'")
                return Set(transport.keys).isSuperset(of: expected) && unsent == 0
            }
            #expect(transport.attemptCount > transport.keys.count, "failures happened")
            #expect(Dictionary(grouping: transport.keys, by: { $0 }).allSatisfy { $0.value.count == 1 }, "nothing delivered twice")
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'dead'") == 0)
        }
    }

    @Test func deadLetterAfterConfiguredTriesTellsTheRoot() async throws {
        let transport = FakeTransport()
        transport.failAlways(true)
        let path = try writeTestConfig(outbox: "{max_attempts: 3, backoff: 1s, max_backoff: 4s, timeout: 2s, give_up_after: 30s}")
        try await withLiveBot(configPath: path, transport: transport) { bot in
            #expect(try await bot.send("/任务 @t1 死信演练", in: "chat-d", from: "u-d").0 == 200)
            try await bot.advance(5, until: "the notice is dead after at least 3 tries and 30 s") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:notice:t1' AND state = 'dead' AND attempts >= 3") == 1
            }
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'dead:task:1:notice:t1'") == 1, "the root's admins are told")
            transport.failAlways(false)
            try await bot.advance(5, until: "the dead-letter notice reaches the root once the platform works") {
                transport.keys.contains("dead:task:1:notice:t1")
            }
        }
    }

    @Test func lockedDatabaseAnswers503ThenRecoversByItself() async throws {
        let path = try writeTestConfig()
        let config = try ConfigLoader.load(path: path)
        try await withLiveBot(configPath: path, transport: FakeTransport()) { bot in
            #expect(try await bot.send("收到", in: "chat-g1", from: "u-g1").0 == 200)
            let before = try await bot.count("SELECT COUNT(*) FROM inbound")

            // Another process-like connection holds an EXCLUSIVE lock beyond the store's 5 s busy timeout.
            let released = try await Self.holdExclusiveLock(path: config.store.sqlitePath, seconds: 12)
            let askedAt = Date()
            let (status, body) = try await bot.send("锁定期间的消息", in: "chat-g1", from: "u-g1", id: "locked-1")
            let waited = Date().timeIntervalSince(askedAt)
            #expect(status == 503, "a locked store answers 503 so the platform retries: \(body) after \(waited) s")
            #expect(waited < 4.9, "answered before the platform's 5 s retry, not after the lock: \(waited) s")
            for await _ in released {}
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound") == before, "nothing half-written")
            // The platform's retry of the same message now succeeds, with no restart.
            #expect(try await bot.send("锁定期间的消息", in: "chat-g1", from: "u-g1", id: "locked-1").0 == 200)
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'locked-1'") == 1)
        }
    }

    @Test func aCommitLaterThanTheAnswerIsKeptOnceAndTheRetryIsADuplicate() async throws {
        let path = try writeTestConfig()
        let config = try ConfigLoader.load(path: path)
        // Answer after 1 s; the lock is released after 3 s, within the store's 5 s busy timeout.
        try await withLiveBot(configPath: path, transport: FakeTransport(), answerWithin: 1) { bot in
            #expect(try await bot.send("收到", in: "chat-g1", from: "u-g1").0 == 200)
            let released = try await Self.holdExclusiveLock(path: config.store.sqlitePath, seconds: 3)
            let (status, _) = try await bot.send("/任务 周五前报送青年之家活动照片", in: "chat-c1", from: "u-c1", id: "slow-1")
            #expect(status == 503, "not committed within 1 s: the platform is told to retry")
            for await _ in released {}
            // The stuck transaction went through once the lock was gone: the message and its task are stored once.
            let deadline = Date().addingTimeInterval(10)
            while try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'slow-1' AND processed_at IS NOT NULL") == 0, Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await bot.count("SELECT COUNT(*) FROM tasks") == 1)
            // The platform's retry is a duplicate: answered 200, not processed again.
            #expect(try await bot.send("/任务 周五前报送青年之家活动照片", in: "chat-c1", from: "u-c1", id: "slow-1").0 == 200)
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'slow-1'") == 1)
            #expect(try await bot.count("SELECT COUNT(*) FROM tasks") == 1)
        }
    }

    /// A message that queues behind a batch already stuck on the store is answered within `answerWithin`
    /// too (503), not only once the stuck batch commits; it stays queued and commits once, after the lock.
    @Test func aMessageQueuedBehindAStuckBatchIsAnsweredInTimeAndKeptOnce() async throws {
        let path = try writeTestConfig()
        let config = try ConfigLoader.load(path: path)
        try await withLiveBot(configPath: path, transport: FakeTransport(), answerWithin: 1) { bot in
            #expect(try await bot.send("收到", in: "chat-g1", from: "u-g1").0 == 200)
            // Released after 4 s, within the store's 5 s busy timeout: the stuck batch commits then.
            let released = try await Self.holdExclusiveLock(path: config.store.sqlitePath, seconds: 4)
            #expect(try await bot.send("第一条", in: "chat-g1", from: "u-g1", id: "stuck-1").0 == 503)
            let askedAt = Date()
            let (status, _) = try await bot.send("第二条", in: "chat-g1", from: "u-g1", id: "queued-1")
            let waited = Date().timeIntervalSince(askedAt)
            #expect(status == 503, "the store is still locked")
            #expect(waited < 1.8, "answered within answerWithin (1 s), not when the lock goes (≈ 3 s later): \(waited) s")
            for await _ in released {}
            try await waitFor("both messages committed", timeout: 10) {
                try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id IN ('stuck-1', 'queued-1') AND processed_at IS NOT NULL") == 2
            }
            // The platform's retry is a duplicate: answered 200, stored once.
            #expect(try await bot.send("第二条", in: "chat-g1", from: "u-g1", id: "queued-1").0 == 200)
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'queued-1'") == 1)
        }
    }

    /// Another connection takes an EXCLUSIVE lock on the database and holds it for `seconds`; the
    /// stream finishes when it is released. The lock is held on a thread of its own: sleeping on the
    /// cooperative pool would starve the server under test.
    /// Returns once the lock is held (a fixed pause was not enough on a loaded machine).
    static func holdExclusiveLock(path: String, seconds: Double) async throws -> AsyncStream<Void> {
        // Waits for the bot's own writer (an outbox round may be committing) instead of failing at once:
        // an EXCLUSIVE lock that was never taken made this test flaky.
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let other = try DatabaseQueue(path: path, configuration: configuration)
        let (held, heldSignal) = AsyncStream<Void>.makeStream()
        let (released, releasedSignal) = AsyncStream<Void>.makeStream()
        Thread.detachNewThread {
            try? other.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                heldSignal.finish()
                Thread.sleep(forTimeInterval: seconds)
                try db.execute(sql: "ROLLBACK")
            }
            heldSignal.finish()
            releasedSignal.finish()
        }
        for await _ in held {}
        return released
    }

    @Test func fullDiskAnswers503ThenRecoversByItself() async throws {
        try await withLiveBot(configPath: try writeTestConfig(), transport: FakeTransport()) { bot in
            // SQLITE_FULL without a tiny filesystem: cap the writer connection's page count at its current size.
            let pages = try await bot.store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
            try await bot.store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
            let big = String(repeating: "满", count: 10_000)  // 30 KB, within InboundLimits.maxTextBytes: needs new pages
            let (status, _) = try await bot.send(big, in: "chat-g1", from: "u-g1", id: "full-1")
            #expect(status == 503)
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'full-1'") == 0, "nothing half-written")
            // Space comes back (here: the cap is lifted); the retry is accepted.
            try await bot.store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
            #expect(try await bot.send(big, in: "chat-g1", from: "u-g1", id: "full-1").0 == 200)
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'full-1'") == 1)
        }
    }

    @Test func auditorReportsOverdueTimerAndTellsTheRootOnce() async throws {
        let path = try writeTestConfig()
        let config = try ConfigLoader.load(path: path)
        let store = try SQLiteStore(path: config.store.sqlitePath)
        let clock = ManualClock(Date())
        let now = clock.now()
        // A step that should have fired 2 minutes ago, with no services running to fire it.
        try await store.write { tx in
            try tx.schedule(TimerEntry(key: "task:99:step:1", dueAt: now.addingTimeInterval(-120), kind: .taskStep, subject: "99", step: 1))
        }
        let app = try await TestBot(configPath: path, mode: .engine, store: store, clock: clock, transport: FakeTransport()).app
        let application = Application(router: app.router())
        try await application.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains("\"status\":\"degraded\"") && body.contains("\"overdue_timers\":1"), "\(body)")
            }
        }
        #expect(await app.auditor.check().degraded)
        clock.advance(by: 30)
        #expect(await app.auditor.check().degraded)
        let told = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE key LIKE 'audit:%' AND chat = 'chat-d'") ?? 0
        }
        #expect(told == 1, "the root's admins are told once per episode")
    }
}
