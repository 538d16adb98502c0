import Foundation
import GRDB
import LeagueCore
import LeaguePlatforms
import LeagueStore
import LeagueTestSupport
import LeagueTransport
import Testing

/// One platform end to end: the real server on loopback, inbound in the vendor's signed or encrypted
/// format, outbound through AsyncHTTPClientTransport to `FakePlatform` in the vendor's body format.
enum PlatformUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case wecom, dingtalk, feishu

    var testDescription: String { rawValue }

    /// The chat id of a unit's group on this platform.
    func chat(_ unit: String) -> String {
        switch self {
        case .wecom: return "wrchat-\(unit)"
        case .dingtalk: return "cid-\(unit)"
        case .feishu: return "oc_\(unit)"
        }
    }

    /// The robot a unit's group posts through (WeCom key, DingTalk token, Feishu hook id).
    func robot(_ unit: String) -> String {
        switch self {
        case .wecom: return "key-\(unit)"
        case .dingtalk: return "tok-\(unit)"
        case .feishu: return "hook-\(unit)"
        }
    }

    /// A member's platform user id.
    func user(_ unit: String) -> String {
        switch self {
        case .wecom: return "wx-\(unit)"
        case .dingtalk: return "staff-\(unit)"
        case .feishu: return "ou_\(unit)"
        }
    }

    /// The group binding line of org.yaml.
    func group(_ unit: String) -> String {
        switch self {
        case .wecom: return "{platform: wecom, chat: \(chat(unit)), robot_key: \(robot(unit))}"
        case .dingtalk: return "{platform: dingtalk, chat: \(chat(unit)), robot_token: \(robot(unit)), robot_secret: SEC-dt-\(unit)}"
        case .feishu: return "{platform: feishu, chat: \(chat(unit)), hook: \(robot(unit)), hook_secret: fs-sec-\(unit)}"
        }
    }

    /// The vendor's rate-limit answer used in the test, and how long the bot must then wait.
    var limit: (FakePlatform.Limit, seconds: Double) {
        switch self {
        case .wecom: return (.wecom45009, 60)
        case .dingtalk: return (.dingtalk130101, 600)
        case .feishu: return (.http429, 60)
        }
    }

    /// District d → towns t1, t2, every group on this platform.
    var orgYAML: String {
        func unit(_ id: String, _ name: String, tier: String, parent: String?, member: String, mobile: String) -> String {
            """
              - id: \(id)
                name: \(name)
                tier: \(tier)
            \(parent.map { "    parent: \($0)\n" } ?? "")    group: \(group(id))
                members:
                  - {id: m-\(id), name: \(member), roles: [admin, cadre], mobile: "\(mobile)", ids: {\(rawValue): \(user(id))}}

            """
        }
        return "units:\n"
            + unit("d", "测试区", tier: "district", parent: nil, member: "区书记", mobile: "13800000001")
            + unit("t1", "第一街道", tier: "town", parent: "d", member: "街道甲", mobile: "13800000002")
            + unit("t2", "第二街道", tier: "town", parent: "d", member: "街道乙", mobile: "13800000003")
    }
}

extension PlatformBot {
    /// Sends a group message as it arrives from `platform`: "@团务助手 …" for WeCom, the mention already
    /// removed by DingTalk, a resolved `@_user_1` placeholder for Feishu.
    @discardableResult
    func say(_ text: String, on platform: PlatformUnderTest, unit: String, id: String = UUID().uuidString) async throws -> Int {
        switch platform {
        case .wecom: return try await wecom("@团务助手 " + text, chat: platform.chat(unit), from: platform.user(unit), id: id)
        case .dingtalk: return try await dingtalk(text, conversation: platform.chat(unit), from: platform.user(unit), id: id)
        case .feishu: return try await feishu("@bot " + text, chat: platform.chat(unit), from: platform.user(unit), id: id)
        }
    }
}

@Suite(.serialized)
struct PlatformEndToEndTests {
    @Test(arguments: PlatformUnderTest.allCases)
    func dispatchAcknowledgeAndRateLimitOnOnePlatform(_ platform: PlatformUnderTest) async throws {
        try await withPlatformBot(orgYAML: platform.orgYAML) { bot in
            try await scenario(platform, bot)
        }
    }

    private func scenario(_ platform: PlatformUnderTest, _ bot: PlatformBot) async throws {
        let api = bot.api
        // A signed / encrypted message from the top group dispatches a task to both towns.
        #expect(try await bot.say("/任务 紧急 @全部 今晚8点前上报青年志愿者人数", on: platform, unit: "d") == 200)
        try await bot.waitUntil("notices at both town robots and the reply at the district robot") { _ in
            !api.delivered(to: platform.robot("t1")).isEmpty && !api.delivered(to: platform.robot("t2")).isEmpty
                && !api.delivered(to: platform.robot("d")).isEmpty
        }
        let notice = try #require(api.delivered(to: platform.robot("t1")).first)
        #expect(notice.text.contains("紧急任务 T-1"))
        #expect(notice.text.contains("今晚8点前上报青年志愿者人数"))
        #expect(notice.text.contains("@团务助手 收到"), "the notice tells people how to answer on \(platform)")
        #expect(notice.mentions.contains(platform.user("t1")), "the town's admin is mentioned")
        #expect(notice.signatureValid)
        let json = notice.json
        switch platform {
        case .wecom:
            #expect(json["msgtype"] as? String == "text")
            #expect((json["text"] as? [String: Any])?["mentioned_list"] as? [String] == ["wx-t1"])
            #expect(notice.query["key"] == "key-t1")
        case .dingtalk:
            #expect(json["msgtype"] as? String == "text")
            #expect((json["at"] as? [String: Any])?["atUserIds"] as? [String] == ["staff-t1"])
            #expect(notice.query["access_token"] == "tok-t1" && notice.query["timestamp"] != nil && notice.query["sign"] != nil)
        case .feishu:
            #expect(json["msg_type"] as? String == "text")
            #expect(json["timestamp"] is String && json["sign"] is String)
            #expect(notice.text.contains("<at user_id=\"ou_t1\">街道甲</at>"))
        }
        #expect(try #require(api.delivered(to: platform.robot("d")).first).text.contains("到 2 个群"))

        // "@机器人 收到" from the first town acknowledges, silently.
        #expect(try await bot.say("收到", on: platform, unit: "t1") == 200)
        try await bot.settle()
        #expect(api.delivered(to: platform.robot("t1")).count == 1)
        try await bot.say("/进度 T-1", on: platform, unit: "d")
        try await bot.waitUntil("roll call") { _ in api.delivered(to: platform.robot("d")).contains { $0.text.contains("📋") } }
        let roll = try #require(api.delivered(to: platform.robot("d")).last { $0.text.contains("📋") }).text
        #expect(roll.contains("已确认 1/2"))
        #expect(roll.contains("第一街道 街道甲"))

        // The second town's robot answers "rate limited" once: the outbox waits, then delivers
        // everything, the urgent notice before the older routine one.
        let (limit, pause) = platform.limit
        api.rateLimit(platform.robot("t2"), next: 1, with: limit)
        try await bot.say("/任务 @第二街道 周五前报送活动照片", on: platform, unit: "d")
        try await bot.waitUntil("the routine notice refused as rate limited") { requests in
            requests.contains { $0.robot == platform.robot("t2") && !$0.accepted && $0.text.contains("周五前报送活动照片") }
        }
        try await bot.settle()
        try await bot.say("/任务 紧急 @第二街道 立即核对网格青年名单", on: platform, unit: "d")
        try await bot.waitUntil("the urgent task's reply") { _ in
            api.delivered(to: platform.robot("d")).contains { $0.text.contains("T-3") }
        }
        try await bot.settle()
        let waiting = api.delivered(to: platform.robot("t2")).filter { $0.text.contains("周五前") || $0.text.contains("立即核对") }
        #expect(waiting.isEmpty, "nothing reaches a paused robot before its pause ends")
        let reply = try #require(api.delivered(to: platform.robot("d")).last { $0.text.contains("T-3") }).text
        #expect(reply.contains("⏳"), "the issuer is told when the last notice is expected: \(reply)")

        bot.advance(pause + 1)
        try await bot.waitUntil("both waiting notices delivered") { _ in
            let texts = api.delivered(to: platform.robot("t2")).map(\.text)
            return texts.contains { $0.contains("周五前报送活动照片") } && texts.contains { $0.contains("立即核对网格青年名单") }
        }
        let order = api.delivered(to: platform.robot("t2")).map(\.text).filter { !$0.contains("提醒") }
        let urgentAt = try #require(order.firstIndex { $0.contains("立即核对网格青年名单") })
        let routineAt = try #require(order.firstIndex { $0.contains("周五前报送活动照片") })
        #expect(urgentAt < routineAt, "urgent first")

        try await bot.settle()
        #expect(try await bot.pendingOutbox().isEmpty, "nothing left behind")
        let badlySigned = api.requests.filter { !$0.signatureValid }
        #expect(badlySigned.isEmpty, "every request was signed correctly")
        let dead = try await bot.store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") ?? 0 }
        #expect(dead == 0, "nothing dropped")
    }
}
