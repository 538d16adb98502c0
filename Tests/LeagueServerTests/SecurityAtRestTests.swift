import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Testing

/// Issue 11 point 3: nothing secret or personal at rest beyond need.
@Suite(.serialized)
struct SecurityAtRestTests {
    /// WeCom grid under a DingTalk community under a Feishu town, and a generic grid; credentials
    /// and mobile numbers that must never reach the database.
    static let orgYAML = """
        units:
          - {id: t1, name: 第一街道, tier: town, group: {platform: feishu, chat: oc_t1, hook: hook-t1-8d2f, hook_secret: fs-sec-t1-91ab},
              members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], mobile: "13500000005", ids: {feishu: ou_t1}}]}
          - {id: c1, name: 解放路社区, tier: community, parent: t1, group: {platform: dingtalk, chat: cid-c1, robot_token: tok-c1-77e1, robot_secret: SEC-dt-c1-4410},
              members: [{id: m-c1, name: 社区丙, roles: [admin, cadre], mobile: "13600000006", ids: {dingtalk: staff-c1}}, {id: m-c1b, name: 社区丁, roles: [admin], mobile: "13900000009"}]}
          - {id: g1, name: 第1网格, tier: grid, parent: c1, group: {platform: wecom, chat: wrchat-g1, robot_key: key-g1-0b5e},
              members: [{id: m-g1, name: 网格员一, roles: [cadre], mobile: "13700000007", ids: {wecom: wx-g1}}, {id: m-g1b, name: 网格员三, roles: [cadre], mobile: "13300000003"}]}
          - {id: g2, name: 第2网格, tier: grid, parent: c1, group: {platform: generic, chat: chat-g2},
              members: [{id: m-g2, name: 网格员二, roles: [cadre], mobile: "13800000008", ids: {generic: u-g2}}]}

        """

    static let secrets = [
        "hook-t1-8d2f", "fs-sec-t1-91ab", "tok-c1-77e1", "SEC-dt-c1-4410", "key-g1-0b5e",
        PlatformSecrets.dingtalkAppSecret, PlatformSecrets.wecomAESKey, PlatformSecrets.feishuEncryptKey, testSecret,
    ]
    static let mobiles = ["13500000005", "13600000006", "13900000009", "13700000007", "13800000008", "13300000003", "13400000004"]

    @Test func theDatabaseAndItsWALHoldNoCredentialAndNoMobileAfterNoticesWentOutEverywhere() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            let api = bot.api
            // DingTalk in, WeCom + generic out; then a breach to DingTalk (mentions by mobile) and Feishu.
            #expect(try await bot.dingtalk("/任务 紧急 今晚上报志愿者名单", conversation: "cid-c1", from: "staff-c1") == 200)
            try await bot.waitUntil("notice at the WeCom grid") { _ in api.delivered(to: "key-g1-0b5e").contains { $0.text.contains("T-1") } }
            bot.advance(181)
            try await bot.waitUntil("breach at the DingTalk community, mentioning by mobile") { _ in
                api.delivered(to: "tok-c1-77e1").contains { $0.text.contains("超时未确认") && $0.mentions.contains("13900000009") }
            }
            bot.advance(180)
            try await bot.waitUntil("breach at the Feishu town") { _ in api.delivered(to: "hook-t1-8d2f").contains { $0.text.contains("超时未确认") } }
            #expect(try await bot.feishu("@团务助手 /进度 T-1", chat: "oc_t1", from: "ou_t1") == 200)
            try await bot.waitUntil("roll call on Feishu") { _ in api.delivered(to: "hook-t1-8d2f").contains { $0.text.contains("📋") } }

            // A mobile typed into a task (refused), into plain chat, and the one /登记 needs: none is kept.
            #expect(try await bot.dingtalk("/任务 有事联系 134 0000 0004", conversation: "cid-c1", from: "staff-c1") == 200)
            try await bot.waitUntil("the refusal on DingTalk") { _ in api.delivered(to: "tok-c1-77e1").contains { $0.text.contains("手机号码") } }
            #expect(try await bot.wecom("家长电话13400000004", chat: "wrchat-g1", from: "wx-g1") == 200)
            #expect(try await bot.wecom("/登记 网格员三 13300000003", chat: "wrchat-g1", from: "wx-g1b") == 200)
            try await bot.waitUntil("the /登记 answer on WeCom, masked") { _ in api.delivered(to: "key-g1-0b5e").contains { $0.text.contains("133****0003") } }

            let path = bot.config.store.sqlitePath
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { bytes += wal }
            #expect(bytes.count > 0)
            for needle in Self.secrets + Self.mobiles {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "“\(needle)” is in the database files")
            }
            let pending = try await bot.pendingOutbox()
            #expect(pending.contains { $0.message.unitID == "g2" }, "the generic grid's notice waits (its outbound URL is closed) — stored without its member's mobile")
            for file in [path, path + "-wal", path + "-shm"] {
                let mode = try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
                #expect(mode & 0o077 == 0, "\(file) has mode \(String(mode, radix: 8))")
            }
        }
    }

    /// The raw bytes of the database file and its WAL.
    static func databaseBytes(_ path: String) throws -> Data {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { bytes += wal }
        return bytes
    }

    @Test func theGenericPlatformsDeliveredNoticesLeaveNoSecretNorMobileInTheDatabase() async throws {
        // The generic webhook with a separate outbound secret, members with mobiles; notices and a
        // breach delivered (the test above leaves the generic grid's notice pending).
        var org = testOrgYAML
        for (member, mobile) in [
            ("m-d, name: 区书记, roles: [admin, cadre]", "13500000025"), ("m-t1, name: 街道甲, roles: [admin, cadre]", "13600000026"),
            ("m-t2, name: 街道乙, roles: [admin, cadre]", "13700000027"),
        ] {
            org = org.replacingOccurrences(of: "{id: \(member), ids:", with: "{id: \(member), mobile: \"\(mobile)\", ids:")
        }
        #expect(org.components(separatedBy: "mobile:").count == 4)
        let path = try writeTestConfig(
            orgYAML: org, platforms: "  generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:9/messages, outbound_secret: gen-out-5ecret-0099}")
        try await withLiveBot(configPath: path) { bot in
            #expect(try await bot.say("/任务 紧急 今晚上报志愿者名单", in: "chat-d", from: "u-d") == 200)
            try await bot.waitUntil("the notices at both towns") { sent in
                Set(sent.filter { $0.text.contains("志愿者") }.map(\.group)).isSuperset(of: ["chat-t1", "chat-t2"])
            }
            bot.advance(181)
            try await bot.waitUntil("the breach at the district") { sent in sent.contains { $0.group == "chat-d" && $0.text.contains("超时未确认") } }
            try await bot.settle()
            let bytes = try Self.databaseBytes(bot.config.store.sqlitePath)
            for needle in [testSecret, "gen-out-5ecret-0099", "13500000025", "13600000026", "13700000027"] {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "“\(needle)” is in the database files")
            }
        }
    }

    @Test func aRotatedKeyAppliesToMessagesAlreadyPending() async throws {
        // A notice queued while the grid's robot had the old key, then the key is rotated in org.yaml.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rotate-\(UUID().uuidString)")
        let store = try SQLiteStore(path: folder.appendingPathComponent("bot.sqlite").path)
        let old = RobotAlias.binding(platform: "wecom", chat: "wrchat-g1", credentials: ["robot_key": "key-old-1111"])
        let notice = OutboundMessage(
            key: "rotated:1", unitID: "g1", group: old, text: "轮换前排队的通知",
            mentions: [Mention(memberID: "m-g1", name: "网格员一", userID: "wx-g1", mobile: "13700000007")])
        try await store.write { tx in try tx.enqueue(notice, at: Date()) }
        let rotated = Self.orgYAML.replacingOccurrences(of: "robot_key: key-g1-0b5e", with: "robot_key: key-new-2222")
        try await withPlatformBot(orgYAML: rotated, store: store) { bot in
            let api = bot.api
            try await bot.waitUntil("the pending notice through the new key") { _ in api.delivered(to: "key-new-2222").contains { $0.text.contains("轮换前") } }
            #expect(api.delivered(to: "key-old-1111").isEmpty, "the old key is never used")
            #expect(api.delivered(to: "key-new-2222").first { $0.text.contains("轮换前") }?.mentions == ["wx-g1"], "mentions resolved at send time")
        }
    }
}

/// Issue 11 point 3 over the app send paths: stream and long connections (real sockets on loopback,
/// so it runs with the socket-timing suites in `.ci/run`).
@Suite(.serialized, .tags(.timed))
struct SecurityStreamAtRestTimedTests {
    @Test func appSendsOverStreamAndLongConnectionsLeaveNoCredentialNorMobileInTheDatabase() async throws {
        // The cross-platform tree (DingTalk Stream, Feishu and WeCom long connections, no webhook
        // robot) with mobiles for the members the notices mention.
        var org = crossPlatformOrgYAML
        for (member, mobile) in [
            ("m-c1, name: 社区丙, roles: [admin, cadre]", "13600000016"), ("m-g1, name: 网格员一, roles: [cadre]", "13700000017"),
            ("m-g3, name: 网格员三, roles: [cadre]", "13800000018"),
        ] {
            org = org.replacingOccurrences(of: "{id: \(member), ids:", with: "{id: \(member), mobile: \"\(mobile)\", ids:")
        }
        #expect(org.components(separatedBy: "mobile:").count == 4)
        try await withCrossPlatformBot(org: org, feishuSecret: "fs-app-s3cret-77", wecomSecret: "wc-bot-w3cret-88") { dingtalk, gateway, bot in
            let socket = try #require(dingtalk.openSockets.first).id
            try await dingtalk.botMessage(
                on: socket, messageID: "push-task", msgID: "msg-task", chat: "cid-d", sender: "staff-d",
                text: "/任务 紧急 @全体网格 今晚8点前上报辖区青年志愿者人数")
            try await bot.wait("the notice on Feishu and WeCom") {
                gateway.sends.contains { $0["receive_id"] as? String == "oc_g1" }
                    && gateway.wecomFrames.contains { ($0["body"] as? [String: Any])?["chatid"] as? String == "wc_g3" }
            }
            // Past the target: the breach in the community's DingTalk group, through the app.
            bot.advance(200)
            try await bot.wait("the breach notice over DingTalk's app") { dingtalk.messages.contains { $0.chat == "cid-c1" && $0.content.contains("超时未确认") } }
            let bytes = try SecurityAtRestTests.databaseBytes(bot.app.engine.config.store.sqlitePath)
            for needle in [dingtalk.clientSecret, "fs-app-s3cret-77", "wc-bot-w3cret-88", "tok-1", "13600000016", "13700000017", "13800000018"] {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "“\(needle)” is in the database files")
            }
        }
    }
}
