import Foundation
import GRDB
import LeagueCore
import LeagueServer
import LeagueTestSupport
import Logging
import ServiceLifecycle
import Testing

/// Issue 10, point 9: SIGTERM stops `leagueops serve` at once, exit 0, and loses nothing pending.
@Suite(.serialized, .tags(.timed, .process))
struct StopPromptlyTimedTests {
    /// A loopback port nobody listens on (a platform that is down: connections are refused).
    static func closedPort() async throws -> Int {
        let platform = FakePlatform()
        try await platform.start()
        let port = platform.port
        await platform.stop()
        return port
    }

    /// SIGTERM, then the seconds until the process is gone, and its exit status (nil: had to be killed).
    static func timedStop(_ bot: ChildBot) -> (seconds: Double, status: Int32?) {
        let start = Date()
        let status = bot.terminate(timeout: 15)
        return (Date().timeIntervalSince(start), status)
    }

    @Test func sigtermWhenIdleExitsZeroWithinTwoSeconds() async throws {
        guard let binary = builtLeagueops() else { return }
        let (config, _) = try writeChildConfig(outboundPort: try await Self.closedPort())
        let bot = try ChildBot(binary: binary, config: config)
        defer { _ = bot.terminate() }  // when an expectation throws first
        // Idle: let every service reach its sleep (the auditor sleeps 10 s between checks).
        try await Task.sleep(for: .milliseconds(300))
        let (seconds, status) = Self.timedStop(bot)
        #expect(status == 0, "SIGTERM exits 0")
        #expect(seconds < 2, "an idle bot stops within 2 s of SIGTERM (took \(seconds) s)")
    }

    @Test func sigtermWhileNoticesWaitInBackoffExitsAtOnceAndKeepsThem() async throws {
        guard let binary = builtLeagueops() else { return }
        // Targets long enough that no reminder comes due (and starts a new send) during the test.
        let (config, database) = try writeChildConfig(
            outboundPort: try await Self.closedPort(), targets: "{routine: 10m, urgent: 10m}",
            outbox: "{max_attempts: 8, backoff: 30s, max_backoff: 60s, timeout: 2s}")
        let bot = try ChildBot(binary: binary, config: config)
        defer { _ = bot.terminate() }  // when an expectation throws first
        #expect(await bot.say("/任务 紧急 @全部 停机演练", in: "chat-d", from: "u-d", id: "stop-1") == 200)
        // Wait until the two notices and the reply failed once and wait in backoff (a refused
        // connection fails after the 2 s send timeout: the HTTP client retries connecting until then).
        let deadline = Date().addingTimeInterval(15)
        var retrying = 0
        while Date() < deadline {
            retrying = try readDatabase(database) {
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts > 0") ?? 0
            }
            if retrying >= 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(retrying >= 3, "the notices are retrying")
        let (seconds, status) = Self.timedStop(bot)
        #expect(status == 0, "SIGTERM exits 0")
        #expect(seconds < 2, "stops within 2 s while notices wait in backoff (took \(seconds) s)")
        let pending = try readDatabase(database) {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0
        }
        #expect(pending >= 3, "nothing pending is lost: both notices and the reply wait for the next start")
    }

    @Test func doorbellWaitReturnsOnGracefulShutdown() async throws {
        let bell = Doorbell()
        let (stream, continuation) = AsyncStream<Double>.makeStream()
        struct Sleeper: Service {
            let bell: Doorbell
            let done: AsyncStream<Double>.Continuation
            func run() async throws {
                let start = Date()
                await bell.wait(seconds: 30)
                done.yield(Date().timeIntervalSince(start))
                done.finish()
            }
        }
        var logger = Logger(label: "doorbell-test")
        logger.logLevel = .critical
        let group = ServiceGroup(configuration: .init(services: [Sleeper(bell: bell, done: continuation)], logger: logger))
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(100))
        await group.triggerGracefulShutdown()
        var slept: Double?
        for await value in stream { slept = value }
        try await running.value
        #expect((slept ?? 99) < 1, "a sleeping service wakes on graceful shutdown (slept \(slept ?? -1) s)")
    }
}

/// Issue 10, points 5 and 10 against the real executable: one writer per store, chat never takes a
/// served store, and a backup taken while serving.
@Suite(.serialized, .tags(.timed, .process))
struct OneWriterProcessTimedTests {
    @Test func aSecondServeRefusesChatRefusesAndABackupIsTakenWhileServing() async throws {
        guard let binary = builtLeagueops() else { return }
        try await withStarted(FakePlatform()) { platform in
            let (config, database) = try writeChildConfig(outboundPort: platform.port)
            let bot = try ChildBot(binary: binary, config: config)
            defer { _ = bot.terminate() }
            #expect(await bot.say("/任务 紧急 @全部 备份演练", in: "chat-d", from: "u-d", id: "backup-1") == 200)
            try await platform.wait("the notices") { Set($0.map(\.key)).isSuperset(of: ["task:1:notice:t1", "task:1:notice:t2"]) }

            let second = try runProcess(binary, ["serve", "--config", config, "--port", "0"])
            #expect(second.status == 75, "a second serve on the same store refuses to start: \(second.err)")
            #expect(second.err.contains("already using the store"), "\(second.err)")

            let chat = try runProcess(binary, ["chat", "--config", config, "--db", database, "--group", "d", "--as", "m-d"])
            #expect(chat.status == 75, "chat refuses a store a server is using: \(chat.err)")

            let copy = database + ".backup"
            let backup = try runProcess(binary, ["backup", "--config", config, "--out", copy])
            #expect(backup.status == 0, "backup while serving: \(backup.err)")
            let (tasks, check) = try readDatabase(copy) { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks") ?? 0, try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "")
            }
            #expect(tasks == 1 && check == "ok", "the copy is consistent and holds the task")
            #expect(await bot.say("收到", in: "chat-t1", from: "u-t1", id: "after-backup") == 200, "the bot kept serving")

            // Stopped, the served store is still refused by chat: it has delivered notices.
            #expect(bot.terminate() == 0)
            let afterStop = try runProcess(binary, ["chat", "--config", config, "--db", database, "--group", "d", "--as", "m-d"])
            #expect(afterStop.status == 75 && afterStop.err.contains("delivered"), "\(afterStop.err)")
        }
    }
}
