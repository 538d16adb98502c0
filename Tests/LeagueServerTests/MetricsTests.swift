import Foundation
import LeagueCore
import LeagueServer
import LeagueTestSupport
import Logging
import Synchronization
import Testing

@Suite(.serialized) struct MetricsTests {
    /// The value of one sample line (`name{labels} value`), or nil when it is not there.
    func sample(_ text: String, _ prefix: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    @Test func scrapeAfterTrafficShowsCountersMoving() async throws {
        try await withRunning(try await dashboardBot(extra: "metrics: {token: scrape-me}")) { bot in
            #expect(try await loopback("GET", port: bot.port, path: "/metrics").0 == 401)
            #expect(try await loopback("GET", port: bot.port, path: "/metrics", headers: ["Authorization": "Bearer wrong"]).0 == 401)
            let (status, before) = try await loopback("GET", port: bot.port, path: "/metrics", headers: ["Authorization": "Bearer scrape-me"])
            #expect(status == 200)
            #expect(sample(before, "leagueops_commands_total{command=\"task\",outcome=\"ok\"}") == nil)

            #expect(try await bot.say("/任务 检查消防通道", in: "chat-c1", from: "u-c1") == 200)
            #expect(try await bot.say("收到", in: "chat-g1", from: "u-g1") == 200)
            #expect(try await bot.say("/任务 测试", in: "chat-g1", from: "u-g1") == 200)  // refused: grids cannot dispatch
            try await bot.settle()
            bot.advance(601)  // g2 misses the 10-minute target: reminder and breach steps fire
            try await bot.waitUntil("the breach notice") { $0.contains { $0.group == "chat-c1" && $0.text.contains("第2网格") } }
            try await bot.settle()

            let (_, after) = try await loopback("GET", port: bot.port, path: "/metrics", headers: ["Authorization": "Bearer scrape-me"])
            #expect(sample(after, "leagueops_commands_total{command=\"task\",outcome=\"ok\"}") == 1)
            #expect(sample(after, "leagueops_commands_total{command=\"ack\",outcome=\"ok\"}") == 1)
            #expect(sample(after, "leagueops_commands_total{command=\"task\",outcome=\"refused\"}") == 1)
            #expect(sample(after, "leagueops_inbound_messages_total{platform=\"generic\",outcome=\"accepted\"}") == 3)
            #expect(sample(after, "leagueops_ingest_seconds_count") == 3)
            #expect((sample(after, "leagueops_sends_total{platform=\"generic\",outcome=\"delivered\"}") ?? 0) >= 4)
            #expect((sample(after, "leagueops_timers_fired_total{kind=\"task-step\"}") ?? 0) >= 1)  // one catch-up firing may take both steps
            #expect((sample(after, "leagueops_timer_lateness_seconds_count") ?? 0) >= 1)
            #expect(sample(after, "leagueops_escalation_steps_total{step=\"0\"}") == 1)
            #expect(sample(after, "leagueops_escalation_steps_total{step=\"1\"}") == 1)
            #expect(sample(after, "leagueops_outbox_pending") == 0)
            #expect(sample(after, "leagueops_outbox_dead") == 0)
            #expect(after.contains("# TYPE leagueops_ingest_seconds histogram"))
            await bot.stop()
        }
    }

    @Test func deadLettersAndRefusedWebhooksAreCounted() async throws {
        try await withRunning(try await dashboardBot(extra: "metrics: {token: t}")) { bot in
            bot.fake.fail([.status(400)])  // a permanent failure: straight to the dead letters
            #expect(try await bot.say("/帮助", in: "chat-g1", from: "u-g1") == 200)
            #expect(try await bot.say("/帮助", in: "chat-g1", from: "u-g1", secret: "wrong") == 401)
            try await bot.settle()
            let (_, text) = try await loopback("GET", port: bot.port, path: "/metrics", headers: ["Authorization": "Bearer t"])
            #expect(sample(text, "leagueops_dead_letters_total{platform=\"generic\"}") == 1)
            #expect(sample(text, "leagueops_sends_total{platform=\"generic\",outcome=\"failed\"}") == 1)
            #expect(sample(text, "leagueops_inbound_messages_total{platform=\"generic\",outcome=\"refused\"}") == 1)
            #expect((sample(text, "leagueops_outbox_dead") ?? 0) >= 1)
            await bot.stop()
        }
    }

    @Test func withoutTokenTheMainPortDoesNotServeMetrics() async throws {
        try await withRunning(try await dashboardBot()) { bot in
            let (status, body) = try await loopback("GET", port: bot.port, path: "/metrics", headers: ["Authorization": "Bearer "])
            #expect(status == 404)
            #expect(body.contains("metrics.port"))
            await bot.stop()
        }
    }

    /// Each long connection's state (connected / reconnecting / stopped), its reconnects and the
    /// silence since its last frame, as `ConnectionRegistry` holds them, scraped over HTTP.
    @Test func connectionStateReconnectsAndFrameAgeAreScraped() async throws {
        try await withRunning(try await dashboardBot(extra: "metrics: {token: t}")) { bot in
            func scrape() async throws -> String {
                let (status, text) = try await loopback("GET", port: bot.port, path: "/metrics", headers: ["Authorization": "Bearer t"])
                #expect(status == 200)
                return text
            }
            // The test config has no long connection: no connection series at all.
            #expect(!(try await scrape()).contains("leagueops_connection_state"))

            // The supervisors feed the registry these events; drive it the same way.
            let registry = bot.app.connectionRegistry
            let policy = ConnectionPolicy(keepalive: 30, deadAfter: 90)
            registry.register("dingtalk", policy: policy)
            registry.register("feishu", policy: policy)
            let t0 = bot.clock.now()
            registry.apply("dingtalk", .start(t0))
            var text = try await scrape()
            #expect(sample(text, "leagueops_connection_state{platform=\"dingtalk\",state=\"reconnecting\"}") == 1)
            #expect(sample(text, "leagueops_connection_state{platform=\"dingtalk\",state=\"connected\"}") == 0)
            #expect(sample(text, "leagueops_connection_reconnects_total{platform=\"dingtalk\"}") == 0)
            #expect(sample(text, "leagueops_connection_last_frame_age_seconds{platform=\"dingtalk\"}") == nil)  // no frame yet

            registry.apply("dingtalk", .connected(t0))
            registry.apply("dingtalk", .frame(t0))
            registry.apply("dingtalk", .failed(.retry("socket closed"), at: t0.addingTimeInterval(1), random: 0))
            registry.apply("dingtalk", .start(t0.addingTimeInterval(1)))
            registry.apply("dingtalk", .connected(t0.addingTimeInterval(2)))  // reconnect 1
            registry.apply("dingtalk", .rotated(t0.addingTimeInterval(3)))  // reconnect 2
            registry.apply("feishu", .start(t0))
            registry.apply("feishu", .failed(.fatal("app_secret rejected"), at: t0, random: 0))
            bot.clock.advance(by: 42)
            text = try await scrape()
            #expect(sample(text, "leagueops_connection_state{platform=\"dingtalk\",state=\"connected\"}") == 1)
            #expect(sample(text, "leagueops_connection_state{platform=\"dingtalk\",state=\"reconnecting\"}") == 0)
            #expect(sample(text, "leagueops_connection_state{platform=\"dingtalk\",state=\"stopped\"}") == 0)
            #expect(sample(text, "leagueops_connection_reconnects_total{platform=\"dingtalk\"}") == 2)
            #expect(sample(text, "leagueops_connection_last_frame_age_seconds{platform=\"dingtalk\"}") == 42)
            #expect(sample(text, "leagueops_connection_degraded{platform=\"dingtalk\"}") == 0)
            #expect(sample(text, "leagueops_connection_state{platform=\"feishu\",state=\"stopped\"}") == 1)
            #expect(sample(text, "leagueops_connection_state{platform=\"feishu\",state=\"connected\"}") == 0)
            #expect(sample(text, "leagueops_connection_degraded{platform=\"feishu\"}") == 1)
            #expect(text.contains("# TYPE leagueops_connection_reconnects_total counter"))

            // The counter stays monotonic across scrapes: a third reconnect adds one, scraping again adds nothing.
            registry.apply("dingtalk", .failed(.retry("silent"), at: t0.addingTimeInterval(50), random: 0))
            registry.apply("dingtalk", .start(t0.addingTimeInterval(50)))
            registry.apply("dingtalk", .connected(t0.addingTimeInterval(51)))
            _ = try await scrape()
            text = try await scrape()
            #expect(sample(text, "leagueops_connection_reconnects_total{platform=\"dingtalk\"}") == 3)
            await bot.stop()
        }
    }

    @Test func jsonLogLinesCarryTheMetadata() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "leagueops") { line in lines.withLock { $0.append(line) } }
        handler.metadata["instance"] = "a"
        let logger = Logger(label: "leagueops") { _ in handler }
        logger.warning("robot rate limited", metadata: ["robot": "r-1", "steps": ["1", "2"]])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(written[0].hasSuffix("}\n"))
        #expect(!written[0].dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "robot rate limited")
        #expect(object["label"] as? String == "leagueops")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["robot"] as? String == "r-1")
        #expect(metadata["instance"] as? String == "a")
        #expect(metadata["steps"] as? [String] == ["1", "2"])
    }
}
