import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueTestSupport
import NIOConcurrencyHelpers
import Testing

/// The org of TestSupport with grid g1 on Feishu and grid g2 on WeCom, both bound by chat id only.
let longConnectionOrgYAML =
    testOrgYAML
    .replacingOccurrences(of: "group: {platform: generic, chat: chat-g1}", with: "group: {platform: feishu, chat: oc_g1}")
    .replacingOccurrences(of: "ids: {generic: u-g1}", with: "ids: {feishu: ou_g1}")
    .replacingOccurrences(of: "group: {platform: generic, chat: chat-g2}", with: "group: {platform: wecom, chat: wc_g2}")
    .replacingOccurrences(of: "ids: {generic: u-g2}", with: "ids: {wecom: wu_g2}")

@Suite("Feishu and WeCom long connections against scripted fake gateways", .serialized, .tags(.timed))
struct LongConnectionTimedTests {
    /// A live bot with Feishu and WeCom long connections to `gateway`; `feishuTiming` is Feishu's keepalive and dead_after.
    func withBot(
        _ gateway: FakeGateway, feishuTiming: String = "keepalive: 300ms, dead_after: 1500ms", _ body: (TestBot) async throws -> Void
    ) async throws {
        let path = try writeTestConfig(
            orgYAML: longConnectionOrgYAML,
            morePlatforms: """
                  feishu: {mode: long_connection, app_id: cli_a1, app_secret: s3cret, base_url: "\(gateway.base)", \(feishuTiming), timeout: 2s, backoff: 50ms}
                  wecom: {mode: long_connection, bot_id: aib1, bot_secret: w3cret, ws_url: "ws://127.0.0.1:\(gateway.port)/wecom", keepalive: 300ms, dead_after: 1500ms, backoff: 50ms}
                """)
        try await withLiveBot(configPath: path, transport: GatewayRoutingTransport(gatewayPrefix: gateway.base, fallback: FakeTransport()), body)
    }

    /// `withBot` on a fake gateway that `script` prepares first; stops both.
    func withGatewayBot(script: (FakeGateway) -> Void = { _ in }, _ body: (FakeGateway, TestBot) async throws -> Void) async throws {
        try await withStarted(FakeGateway()) { gateway in
            script(gateway)
            try await withBot(gateway) { bot in try await body(gateway, bot) }
        }
    }

    @Test("bootstrap 500, busy code and a bootstrap that never answers are retried; then a push is committed, ACKed byte-exact and answered through the app")
    func feishuBootstrapFaultsPushAndAck() async throws {
        try await withGatewayBot(script: { $0.state.withLockedValue { $0.bootstrapScript = [.status(500), .code(1_000_040_343), .hang, .ok] } }) { gateway, bot in
            try await waitFor("Feishu connected") { bot.connectionState("feishu") == "connected" }
            #expect(gateway.state.withLockedValue { $0.bootstraps } >= 4)
            let frames = FakeGateway.event(messageID: "om_1", chat: "oc_g1", sender: "ou_g1", text: "@_user_1 /帮助", seqID: 5, logID: 7_318_123_456_789_012_345)
            try await gateway.push(frames[0])
            try await waitFor("the push is ACKed") { !gateway.acks.isEmpty }
            let ack = try #require(gateway.acks.first)
            #expect(ack.logID == 7_318_123_456_789_012_345, "LogID above 2^53 echoed intact")
            #expect(ack.seqID == 5)
            #expect(Array(ack.headers.dropLast()) == frames[0].headers)
            #expect(ack.headers.last?.key == "biz_rt")
            #expect(ack.payload == Data(#"{"code":200}"#.utf8))
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'om_1'") == 1)
            // The answer to /帮助 goes into the chat through im/v1/messages with the app's token.
            try await waitFor("the reply reaches oc_g1") { gateway.sends.contains { $0["receive_id"] as? String == "oc_g1" } }
            // Pings flow and pongs keep the socket alive past dead_after.
            try await Task.sleep(for: .milliseconds(1800))
            #expect(gateway.pings >= 3)
            #expect(bot.connectionState("feishu") == "connected")
            #expect(gateway.state.withLockedValue { $0.bootstraps } == 4, "no reconnect while pongs arrive")
        }
    }

    @Test("a pong announcing a shorter PingInterval makes the bot ping that often; the configured keepalive stays the longest interval")
    func feishuPongPingIntervalIsFollowedWhenShorter() async throws {
        // keepalive 5 s: without the announced 1 s, no ping would follow the opening one for 5 s.
        try await withStarted(FakeGateway()) { gateway in
            gateway.state.withLockedValue { $0.pongPingInterval = 1 }
            try await withBot(gateway, feishuTiming: "keepalive: 5s, dead_after: 15s") { bot in
                try await waitFor("Feishu connected") { bot.connectionState("feishu") == "connected" }
                let connectedAt = Date()
                try await waitFor("pings every announced second", timeout: 4) { gateway.pings >= 3 }
                #expect(Date().timeIntervalSince(connectedAt) < 3.5, "three pings (the opening one and two after 1 s each) well before the 5 s keepalive")
            }
        }
    }

    @Test("a push re-sent after a late ACK and split in fragments (out of order) has one effect")
    func feishuRedeliveryOneEffect() async throws {
        try await withGatewayBot { gateway, bot in
            try await waitFor("Feishu connected") { bot.connectionState("feishu") == "connected" }
            let frames = FakeGateway.event(messageID: "om_2", chat: "oc_g1", sender: "ou_g1", text: "@_user_1 /帮助 团课", seqID: 10, logID: 1, parts: 3)
            for frame in frames.reversed() { try await gateway.push(frame) }
            try await waitFor("the joined push is ACKed once") { gateway.acks.count == 1 }
            // Feishu did not see the ACK in time and pushes the same message again (whole this time).
            let again = FakeGateway.event(messageID: "om_2", chat: "oc_g1", sender: "ou_g1", text: "@_user_1 /帮助 团课", seqID: 20, logID: 2)
            try await gateway.push(again[0])
            try await waitFor("the redelivery is ACKed too") { gateway.acks.count == 2 }
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'om_2'") == 1)
            try await waitFor("one reply") { gateway.sends.count >= 1 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(gateway.sends.filter { $0["receive_id"] as? String == "oc_g1" }.count == 1, "processed once")
        }
    }

    @Test("a socket that stays open but goes silent is replaced through a fresh bootstrap; tickets are used once")
    func feishuSilentSocketReconnects() async throws {
        try await withGatewayBot { gateway, bot in
            try await waitFor("Feishu connected") { bot.connectionState("feishu") == "connected" }
            let silentAt = Date()
            gateway.state.withLockedValue { $0.answerPings = false }
            try await waitFor("a second bootstrap") { gateway.state.withLockedValue { $0.bootstraps } >= 2 }
            gateway.state.withLockedValue { $0.answerPings = true }
            try await waitFor("connected again") { bot.connectionState("feishu") == "connected" }
            let reconnectSeconds = Date().timeIntervalSince(silentAt)
            #expect(reconnectSeconds < 4, "dead_after 1.5 s + backoff: \(reconnectSeconds) s")
            #expect(gateway.state.withLockedValue { $0.refusedTickets } == 0)
            #expect(bot.connection("feishu")?.reconnectsLastHour ?? 0 >= 1)
            // A push on the new socket is still handled.
            try await gateway.push(FakeGateway.event(messageID: "om_3", chat: "oc_g1", sender: "ou_g1", text: "收到", seqID: 1, logID: 3)[0])
            try await waitFor("ACK on the new socket") { !gateway.acks.isEmpty }
            print("BENCH feishu reconnect after silent socket: \(String(format: "%.2f", reconnectSeconds)) s (dead_after 1.5 s)")
        }
    }

    @Test("a bootstrap refused with a fatal code stops retrying and /healthz says so")
    func feishuFatalBootstrapStops() async throws {
        try await withGatewayBot(script: { $0.state.withLockedValue { $0.bootstrapScript = [.code(1_000_040_344)] } }) { gateway, bot in
            try await waitFor("Feishu stopped") { bot.connectionState("feishu") == "stopped" }
            try await Task.sleep(for: .milliseconds(400))
            #expect(gateway.state.withLockedValue { $0.bootstraps } == 1)
            let entry = try #require(bot.connection("feishu"))
            #expect(entry.lastError?.contains("1000040344") == true)
            let (_, body) = try await loopback("GET", port: bot.port, path: "/healthz")
            #expect(body.contains("\"feishu\""))
        }
    }

    @Test("a push arriving while the store is locked is not ACKed; the re-push after the lock commits once")
    func feishuStoreFailureNotAcked() async throws {
        try await withGatewayBot { gateway, bot in
            try await waitFor("Feishu connected") { bot.connectionState("feishu") == "connected" }
            let released = try await FaultStoreAndPlatformTimedTests.holdExclusiveLock(path: bot.config.store.sqlitePath, seconds: 6)
            let push = FakeGateway.event(messageID: "om_4", chat: "oc_g1", sender: "ou_g1", text: "收到", seqID: 30, logID: 4)[0]
            try await gateway.push(push)
            try await Task.sleep(for: .milliseconds(3200))
            #expect(gateway.acks.isEmpty, "not committed within 3 s: not acknowledged")
            for await _ in released {}
            try await gateway.push(push)  // Feishu re-pushes the unanswered event
            try await waitFor("the re-push is ACKed") { !gateway.acks.isEmpty }
            try await waitFor("committed once") { try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'om_4'") == 1 }
        }
    }

    @Test("WeCom: subscribe with bot id and secret, ping acks, a push committed and answered with aibot_send_msg on the socket")
    func wecomSubscribePushAndSend() async throws {
        try await withGatewayBot { gateway, bot in
            try await waitFor("WeCom subscribed") { gateway.wecomFrames.contains { $0["cmd"] as? String == "aibot_subscribe" } }
            let subscribe = try #require(gateway.wecomFrames.first)
            #expect(subscribe["cmd"] as? String == "aibot_subscribe")
            #expect((subscribe["body"] as? [String: Any])?["bot_id"] as? String == "aib1")
            #expect((subscribe["body"] as? [String: Any])?["secret"] as? String == "w3cret")
            try await waitFor("WeCom connected") { bot.connectionState("wecom") == "connected" }
            try await waitFor("pings") { gateway.wecomFrames.filter { $0["cmd"] as? String == "ping" }.count >= 2 }
            try await gateway.wecomPush(FakeGateway.wecomMessage(msgID: "wm_1", chat: "wc_g2", from: "wu_g2", text: "/帮助"))
            try await gateway.wecomPush(FakeGateway.wecomMessage(msgID: "wm_1", chat: "wc_g2", from: "wu_g2", text: "/帮助"))
            try await waitFor("the reply goes up the socket") { gateway.wecomFrames.contains { $0["cmd"] as? String == "aibot_send_msg" } }
            let send = try #require(gateway.wecomFrames.first { $0["cmd"] as? String == "aibot_send_msg" })
            let body = try #require(send["body"] as? [String: Any])
            #expect(body["chatid"] as? String == "wc_g2")
            #expect(body["msgtype"] as? String == "markdown")
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'wm_1'") == 1)
            try await Task.sleep(for: .milliseconds(300))
            #expect(gateway.wecomFrames.filter { $0["cmd"] as? String == "aibot_send_msg" }.count == 1, "the duplicate push had no effect")
            try await waitFor("sent") { try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") >= 1 }
        }
    }

    @Test("WeCom: a disconnected_event (another holder took the bot) stops the connection without reconnecting")
    func wecomEvictedStops() async throws {
        try await withGatewayBot { gateway, bot in
            try await waitFor("WeCom connected") { bot.connectionState("wecom") == "connected" }
            // The client may see the upgrade before the gateway's session runs: wait for the subscribe it read.
            try await waitFor("WeCom subscribed") { gateway.wecomFrames.contains { $0["cmd"] as? String == "aibot_subscribe" } }
            try await gateway.wecomPush(#"{"cmd":"aibot_event_callback","headers":{"req_id":"ev1"},"body":{"msgid":"e1","msgtype":"event","event":{"eventtype":"disconnected_event"}}}"#)
            try await waitFor("WeCom stopped") { bot.connectionState("wecom") == "stopped" }
            try await Task.sleep(for: .milliseconds(500))
            #expect(gateway.wecomFrames.filter { $0["cmd"] as? String == "aibot_subscribe" }.count == 1, "does not fight for the bot")
            #expect(bot.connection("wecom")?.lastError?.contains("disconnected_event") == true)
        }
    }

    @Test("WeCom: a refused subscribe is fatal; unanswered pings reconnect")
    func wecomSubscribeRefusedAndMissedPings() async throws {
        try await withStarted(FakeGateway()) { gateway in
            gateway.state.withLockedValue { $0.wecomAnswerPings = false }
            try await withBot(gateway) { _ in
                try await waitFor("a second subscribe after two missed ping acks") {
                    gateway.wecomFrames.filter { $0["cmd"] as? String == "aibot_subscribe" }.count >= 2
                }
            }
            gateway.state.withLockedValue { $0.wecomSubscribeErrcode = 40001 }
            try await withBot(gateway) { second in
                try await waitFor("WeCom stopped on a refused subscribe") { second.connectionState("wecom") == "stopped" }
                #expect(second.connection("wecom")?.lastError?.contains("40001") == true)
            }
        }
    }
}
