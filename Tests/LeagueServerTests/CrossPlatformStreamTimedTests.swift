import Foundation
import GRDB
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import LeagueTransport
import Testing

/// The district, its town and community on DingTalk (Stream mode, bound by chat: the app speaks there),
/// grid 1 on Feishu and grids 2 and 3 on WeCom (long connections, bound by chat). No unit has a webhook
/// robot and no platform knows a URL of the bot: every message comes in over a socket the bot opened.
let crossPlatformOrgYAML = """
    units:
      - {id: d, name: 测试区, tier: district, group: {platform: dingtalk, chat: cid-d}, members: [{id: m-d, name: 区书记, roles: [admin, cadre], ids: {dingtalk: staff-d}}]}
      - {id: t1, name: 第一街道, tier: town, parent: d, group: {platform: dingtalk, chat: cid-t1},
          members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {dingtalk: staff-t1}}]}
      - {id: c1, name: 解放路社区, tier: community, parent: t1, group: {platform: dingtalk, chat: cid-c1},
          members: [{id: m-c1, name: 社区丙, roles: [admin, cadre], ids: {dingtalk: staff-c1}}]}
      - {id: g1, name: 第1网格, tier: grid, parent: c1, group: {platform: feishu, chat: oc_g1}, members: [{id: m-g1, name: 网格员一, roles: [cadre], ids: {feishu: ou_g1}}]}
      - {id: g2, name: 第2网格, tier: grid, parent: c1, group: {platform: wecom, chat: wc_g2}, members: [{id: m-g2, name: 网格员二, roles: [cadre], ids: {wecom: wu_g2}}]}
      - {id: g3, name: 第3网格, tier: grid, parent: c1, group: {platform: wecom, chat: wc_g3}, members: [{id: m-g3, name: 网格员三, roles: [cadre], ids: {wecom: wu_g3}}]}

    """

/// Runs `body` with both fake gateways and a live bot on `org` (DingTalk in Stream mode, Feishu and
/// WeCom long connections, short keepalives) once its three connections are up; stops all three.
func withCrossPlatformBot(
    org: String, feishuSecret: String = "s3cret", wecomSecret: String = "w3cret", _ body: (FakeDingTalkGateway, FakeGateway, TestBot) async throws -> Void
) async throws {
    try await withStarted(FakeDingTalkGateway()) { dingtalk in
        try await withStarted(FakeGateway()) { gateway in
            let path = try writeTestConfig(
                orgYAML: org,
                morePlatforms: """
                      dingtalk: {mode: stream, client_id: \(dingtalk.clientID), client_secret: \(dingtalk.clientSecret), api_base_url: "\(dingtalk.baseURL)", base_url: "\(dingtalk.baseURL)", keepalive: 300ms, dead_after: 5s, timeout: 2s, backoff: 50ms}
                      feishu: {mode: long_connection, app_id: cli_a1, app_secret: \(feishuSecret), base_url: "\(gateway.base)", keepalive: 300ms, dead_after: 5s, timeout: 2s, backoff: 50ms}
                      wecom: {mode: long_connection, bot_id: aib1, bot_secret: \(wecomSecret), ws_url: "ws://127.0.0.1:\(gateway.port)/wecom", keepalive: 300ms, dead_after: 5s, backoff: 50ms}
                    """)
            try await withLiveBot(configPath: path, transport: TwoGatewayTransport(prefixes: [dingtalk.baseURL, gateway.base])) { bot in
                // The gateway registers a socket a moment after the bot sees the upgrade: wait for both.
                try await bot.wait("all three connections up") {
                    ["dingtalk", "feishu", "wecom"].allSatisfy { bot.connectionState($0) == "connected" } && !dingtalk.openSockets.isEmpty
                }
                try await body(dingtalk, gateway, bot)
            }
        }
    }
}

/// The app APIs of both fake gateways over real loopback HTTP; anything else is refused (the org
/// has no webhook robot, so nothing else may be called).
private struct TwoGatewayTransport: HTTPTransport {
    let prefixes: [String]
    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        guard prefixes.contains(where: { request.url.hasPrefix($0) }) else {
            Issue.record("an outbound call outside the platforms' APIs: \(request.url)")
            throw URLError(.unsupportedURL)
        }
        return try await AsyncHTTPClientTransport().send(request, timeout: timeout)
    }
}

@Suite("One task across DingTalk Stream, Feishu and WeCom long connections", .serialized, .tags(.timed))
struct CrossPlatformStreamTimedTests {
    /// /任务 typed in the district's DingTalk group over Stream reaches the grids on Feishu and WeCom
    /// through their apps; 收到 comes back over each long connection; the grid that stays silent is
    /// reported to its community's DingTalk group once the 3-minute target is missed.
    @Test func aTaskFromDingTalkReachesFeishuAndWeComGridsAndTheSilentOneEscalates() async throws {
        try await withCrossPlatformBot(org: crossPlatformOrgYAML) { dingtalk, gateway, bot in
            let socket = try #require(dingtalk.openSockets.first).id

            // The district secretary dispatches in DingTalk.
            try await dingtalk.botMessage(
                on: socket, messageID: "push-task", msgID: "msg-task", chat: "cid-d", sender: "staff-d",
                text: "/任务 紧急 @全体网格 今晚8点前上报辖区青年志愿者人数")
            try await dingtalk.wait("the push is ACKed after its commit") { !dingtalk.acks(of: "push-task").isEmpty }

            // Feishu: im/v1/messages to the grid's chat; WeCom: aibot_send_msg up the long connection.
            func feishuTexts(_ chat: String) -> [String] {
                gateway.sends.filter { $0["receive_id"] as? String == chat }.compactMap { $0["content"] as? String }
            }
            func wecomTexts(_ chat: String) -> [String] {
                gateway.wecomFrames.filter { $0["cmd"] as? String == "aibot_send_msg" }.compactMap { $0["body"] as? [String: Any] }
                    .filter { $0["chatid"] as? String == chat }.map { String(describing: $0) }
            }
            try await bot.wait("the notice reached every grid on its platform") {
                feishuTexts("oc_g1").contains { $0.contains("青年志愿者") }
                    && wecomTexts("wc_g2").contains { $0.contains("青年志愿者") }
                    && wecomTexts("wc_g3").contains { $0.contains("青年志愿者") }
            }
            // The secretary's reply goes back into the DingTalk group through the app.
            try await bot.wait("the reply in the district group") { dingtalk.messages.contains { $0.chat == "cid-d" && $0.content.contains("T-1") } }

            // Grid 1 acknowledges on Feishu, grid 2 on WeCom; grid 3 stays silent.
            try await gateway.push(FakeGateway.event(messageID: "om_ack", chat: "oc_g1", sender: "ou_g1", text: "收到", seqID: 1, logID: 11)[0])
            try await gateway.wecomPush(FakeGateway.wecomMessage(msgID: "wm_ack", chat: "wc_g2", from: "wu_g2", text: "收到"))
            try await bot.wait("two acknowledgements recorded") {
                try await bot.count("SELECT COUNT(*) FROM task_targets WHERE acknowledged_at IS NOT NULL") == 2
            }
            #expect(try await bot.count("SELECT COUNT(*) FROM task_targets WHERE unit_id = 'g3' AND acknowledged_at IS NULL") == 1)

            // Past the 3-minute target: the breach notice goes to the community's DingTalk group, naming grid 3 only.
            bot.advance(200)
            try await bot.wait("the breach notice in the community's group") {
                dingtalk.messages.contains { $0.chat == "cid-c1" && $0.content.contains("超时未确认") }
            }
            let breach = try #require(dingtalk.messages.first { $0.chat == "cid-c1" && $0.content.contains("超时未确认") }).content
            #expect(breach.contains("第3网格"))
            #expect(!breach.contains("第1网格") && !breach.contains("第2网格"))
            // The reminder (due at half the target) is sent by its own robot's batch, maybe after the breach.
            try await bot.wait("the silent grid was reminded at half the target") { wecomTexts("wc_g3").contains { $0.contains("提醒") } }

            // Every message came in over a socket the bot opened, each exactly once.
            let platforms = try await bot.store.writer.read { db in
                try String.fetchAll(db, sql: "SELECT platform || ':' || message_id FROM inbound ORDER BY id")
            }
            #expect(platforms.sorted() == ["dingtalk:msg-task", "feishu:om_ack", "wecom:wm_ack"])
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'dead'") == 0)
        }
    }
}
