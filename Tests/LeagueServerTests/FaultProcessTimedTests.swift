import Foundation
import GRDB
import LeagueCore
import LeagueTestSupport
import NIOConcurrencyHelpers
import Testing

/// Crash and stop tests against the real `leagueops serve` as a child process on loopback.
@Suite(.serialized, .tags(.timed, .process))
struct FaultProcessTimedTests {
    /// Sends `count` messages over `workers` concurrent senders; returns the ids answered 2xx. `answered`
    /// counts them as they come, for starting a fault once the load reached the server.
    static func load(_ bot: ChildBot, count: Int, workers: Int, prefix: String, answered: NIOLockedValueBox<Int>? = nil) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var ok: [String] = []
                    for index in stride(from: worker, to: count, by: workers) {
                        let id = "\(prefix)-\(index)"
                        guard let status = await bot.say("第\(index)条 普通消息", in: "chat-g1", from: "u-g1", id: id) else { break }
                        if (200..<300).contains(status) {
                            ok.append(id)
                            answered?.withLockedValue { $0 += 1 }
                        }
                    }
                    return ok
                }
            }
            var all: [String] = []
            for await ids in group { all += ids }
            return all
        }
    }

    /// In both shipped `synchronous` modes (issue 16: durability unchanged by the speed work).
    @Test(arguments: ["normal", "full"]) func killNineMidLoadLosesNothingAndFiresOutageStepsOnce(synchronous: String) async throws {
        guard let binary = builtLeagueops() else { return }
        try await withStarted(FakePlatform()) { platform in
            let (config, database) = try writeChildConfig(outboundPort: platform.port, synchronous: synchronous)

            var bot = try ChildBot(binary: binary, config: config)
            defer { _ = bot.terminate() }  // whichever child is current when the test leaves
            #expect(await bot.say("/任务 紧急 @全部 演练：断电恢复", in: "chat-d", from: "u-d", id: "dispatch-1") == 200)
            try await platform.wait("both notices and the issuer's reply") { received in
                Set(received.map(\.key)).isSuperset(of: ["task:1:notice:t1", "task:1:notice:t2"]) && received.contains { $0.group == "chat-d" }
            }
            // Let the outbox mark them sent, so the crash below hits inbound load only.
            let settleDeadline = Date().addingTimeInterval(5)
            while Date() < settleDeadline, try readDatabase(database, { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0 }) > 0 {
                try await Task.sleep(for: .milliseconds(20))
            }

            // Load, and kill -9 while requests are in flight.
            let crashing = bot
            let progress = NIOLockedValueBox(0)
            async let answered = Self.load(crashing, count: 100_000, workers: 8, prefix: "load", answered: progress)
            // Crash once the load is flowing (at least 400 ms, and more than 10 answered), not after a fixed time.
            try await Task.sleep(for: .milliseconds(400))
            try? await waitFor("the load reaching the server", timeout: 10) { progress.withLockedValue { $0 } > 10 }
            bot.kill9()
            let ok = await answered
            #expect(ok.count > 10, "the load reached the server before the crash")
            #expect(platform.received.allSatisfy { !$0.key.contains(":step:") }, "no step was due before the crash")

            // Stay down past both steps of the 4 s urgent target (reminder at 2 s, breach at 4 s).
            try await Task.sleep(for: .milliseconds(4500))
            bot = try ChildBot(binary: binary, config: config)
            defer { _ = bot.terminate() }
            try await platform.wait("the reminders and the breach notice after restart") { received in
                Set(received.map(\.key)).isSuperset(of: ["task:1:step:0:t1", "task:1:step:0:t2", "task:1:step:1:d"])
            }
            try await Task.sleep(for: .milliseconds(1500))  // a second firing would show up by now
            // Each step fired once (one outbox row per key, below). Delivery is at-least-once: a key reaches
            // the platform again only after a send the bot saw fail (a time-out on a loaded machine), so no
            // key is received more often than the outbox attempted it.
            let attempts = try readDatabase(database) { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, attempts FROM outbox").map { ($0["key"] as String, $0["attempts"] as Int) })
            }
            for key in ["task:1:step:0:t1", "task:1:step:0:t2", "task:1:step:1:d"] {
                #expect(platform.count(key: key) >= 1, "\(key) delivered")
            }
            for key in platform.duplicateKeys {
                #expect(platform.count(key: key) <= attempts[key] ?? 0, "\(key) received \(platform.count(key: key)) times, attempted \(attempts[key] ?? 0)")
            }

            let stored = Set(try readDatabase(database) { try String.fetchAll($0, sql: "SELECT message_id FROM inbound") })
            let missing = ok.filter { !stored.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) of \(ok.count) messages answered 2xx are not in the store")
            let steps = try readDatabase(database) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM escalations WHERE task_id = 1") ?? 0 }
            #expect(steps == 2)
            #expect(bot.terminate() == 0, "graceful stop exits 0")
        }
    }

    @Test func sigtermFinishesInFlightRequestsAndLosesNothing() async throws {
        guard let binary = builtLeagueops() else { return }
        try await withStarted(FakePlatform()) { platform in
            let (config, database) = try writeChildConfig(outboundPort: platform.port)
            let bot = try ChildBot(binary: binary, config: config)
            defer { _ = bot.terminate() }

            let progress = NIOLockedValueBox(0)
            async let answered = Self.load(bot, count: 100_000, workers: 8, prefix: "term", answered: progress)
            try await Task.sleep(for: .milliseconds(400))
            try? await waitFor("the load reaching the server", timeout: 10) { progress.withLockedValue { $0 } > 10 }
            let stoppedAt = Date()
            let status = bot.terminate(timeout: 15)
            let ok = await answered
            #expect(status == 0, "SIGTERM stops the bot cleanly (exit 0), not by a kill")
            #expect(Date().timeIntervalSince(stoppedAt) < 15)
            #expect(ok.count > 10)
            let stored = Set(try readDatabase(database) { try String.fetchAll($0, sql: "SELECT message_id FROM inbound") })
            let missing = ok.filter { !stored.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) of \(ok.count) messages answered 2xx are not in the store")

            // What was committed but not processed before the stop is processed after a restart.
            let again = try ChildBot(binary: binary, config: config)
            defer { _ = again.terminate() }
            let deadline = Date().addingTimeInterval(20)
            var left = -1
            while Date() < deadline {
                left = try readDatabase(database) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM inbound WHERE processed_at IS NULL") ?? 0 }
                if left == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(left == 0, "every committed message processed after restart")
        }
    }
}
