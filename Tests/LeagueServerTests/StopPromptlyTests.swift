import Foundation
import GRDB
import LeagueCore
import LeagueServer
import Logging
import ServiceLifecycle
import Testing

/// Issue 10, point 9: SIGTERM stops `leagueops serve` at once, exit 0, and loses nothing pending.
@Suite(.serialized)
struct StopPromptlyTests {
    /// A loopback port nobody listens on (a platform that is down: connections are refused).
    static func closedPort() async throws -> Int {
        let platform = LoopbackPlatform()
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
        guard let binary = leagueopsBinary() else {
            Issue.record("no built leagueops binary next to the test bundle; run `swift build` first")
            return
        }
        let (config, _) = try writeChildConfig(outboundPort: try await Self.closedPort())
        let bot = try ChildBot(binary: binary, config: config)
        // Idle: let every service reach its sleep (the auditor sleeps 10 s between checks).
        try await Task.sleep(for: .milliseconds(300))
        let (seconds, status) = Self.timedStop(bot)
        #expect(status == 0, "SIGTERM exits 0")
        #expect(seconds < 2, "an idle bot stops within 2 s of SIGTERM (took \(seconds) s)")
    }

    @Test func sigtermWhileNoticesWaitInBackoffExitsAtOnceAndKeepsThem() async throws {
        guard let binary = leagueopsBinary() else {
            Issue.record("no built leagueops binary next to the test bundle; run `swift build` first")
            return
        }
        let (config, database) = try writeChildConfig(outboundPort: try await Self.closedPort(),
                                                      outbox: "{max_attempts: 8, backoff: 30s, max_backoff: 60s, timeout: 2s}")
        let bot = try ChildBot(binary: binary, config: config)
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
