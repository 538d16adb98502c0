import Foundation
import LeagueCore
import LeaguePlatforms
import LeagueTestSupport
import Testing

/// A tree that mixes platforms: a WeCom grid under a DingTalk community under a Feishu town.
/// Every notice must leave through the platform and robot of the group it is for.
@Suite(.serialized)
struct PlatformMixedTreeTests {
    static let orgYAML = """
        units:
          - {id: t1, name: 第一街道, tier: town, group: {platform: feishu, chat: oc_t1, hook: hook-t1, hook_secret: fs-sec-t1},
              members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {feishu: ou_t1}}]}
          - {id: c1, name: 解放路社区, tier: community, parent: t1, group: {platform: dingtalk, chat: cid-c1, robot_token: tok-c1, robot_secret: SEC-dt-c1},
              members: [{id: m-c1, name: 社区丙, roles: [admin, cadre], ids: {dingtalk: staff-c1}}, {id: m-c1b, name: 社区丁, roles: [admin], mobile: "13900000009"}]}
          - {id: g1, name: 第1网格, tier: grid, parent: c1, group: {platform: wecom, chat: wrchat-g1, robot_key: key-g1},
              members: [{id: m-g1, name: 网格员一, roles: [cadre], ids: {wecom: wx-g1}}]}

        """

    @Test func anUnclaimedWeComReportGoesToDingTalkThenFeishu() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            let api = bot.api
            #expect(try await bot.wecom("@团务助手 /上报 紧急 3号楼有独居老人需要帮助", chat: "wrchat-g1", from: "wx-g1") == 200)
            try await bot.waitUntil("report at the DingTalk community robot") { _ in
                api.delivered(to: "tok-c1").contains { $0.text.contains("紧急上报 T-1") }
            }
            let report = try #require(api.delivered(to: "tok-c1").first { $0.text.contains("紧急上报 T-1") })
            #expect(report.vendor == .dingtalk && report.signatureValid)
            #expect(report.json["msgtype"] as? String == "text")
            try await bot.waitUntil("the reporter's reply on WeCom") { _ in api.delivered(to: "key-g1").contains { $0.text.contains("T-1") } }

            bot.advance(181)
            try await bot.waitUntil("escalated to the Feishu town robot") { _ in
                api.delivered(to: "hook-t1").contains { $0.text.contains("上报未认领") }
            }
            let escalation = try #require(api.delivered(to: "hook-t1").first { $0.text.contains("上报未认领") })
            #expect(escalation.vendor == .feishu && escalation.signatureValid)
            #expect(escalation.text.contains("第1网格"))
            #expect(escalation.mentions == ["ou_t1"], "the town's admin is @-mentioned in Feishu's <at> form")
            try await bot.settle()
            #expect(!api.delivered.contains { $0.vendor == .wecom && $0.text.contains("上报未认领") })
            #expect(!api.delivered.contains { $0.vendor == .dingtalk && $0.text.contains("上报未认领") }, "the community already had it")
        }
    }

    @Test func aDispatchBreachInAWeComGridReachesDingTalkThenTheFeishuSupervisors() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            let api = bot.api
            #expect(try await bot.dingtalk("/任务 紧急 @第1网格 今晚上报志愿者名单", conversation: "cid-c1", from: "staff-c1") == 200)
            try await bot.waitUntil("notice at the WeCom grid robot") { _ in api.delivered(to: "key-g1").contains { $0.text.contains("紧急任务 T-1") } }
            let notice = try #require(api.delivered(to: "key-g1").first { $0.text.contains("紧急任务 T-1") })
            #expect(notice.vendor == .wecom)
            #expect(notice.mentions == ["wx-g1"])
            #expect(notice.text.contains("@团务助手 收到"))
            try await bot.waitUntil("the issuer's reply on DingTalk") { _ in api.delivered(to: "tok-c1").contains { $0.text.contains("T-1") } }

            bot.advance(91)
            try await bot.waitUntil("reminder in the WeCom grid") { _ in api.delivered(to: "key-g1").contains { $0.text.contains("提醒") } }
            bot.advance(90)
            try await bot.waitUntil("breach at the DingTalk community") { _ in
                api.delivered(to: "tok-c1").contains { $0.text.contains("超时未确认") }
            }
            let breach = try #require(api.delivered(to: "tok-c1").first { $0.text.contains("超时未确认") })
            #expect(breach.text.contains("第1网格"))
            #expect(Set(breach.mentions) == ["staff-c1", "13900000009"], "DingTalk mentions by staff id, or by mobile when there is none")
            #expect(breach.signatureValid)

            bot.advance(180)
            try await bot.waitUntil("breach one tier further, at the Feishu town") { _ in
                api.delivered(to: "hook-t1").contains { $0.text.contains("超时未确认") }
            }
            let further = try #require(api.delivered(to: "hook-t1").first { $0.text.contains("超时未确认") })
            #expect(further.vendor == .feishu && further.signatureValid)
            #expect(further.mentions == ["ou_t1"])

            // The grid finally answers with "@机器人 收到" on WeCom; the roll call on DingTalk shows it.
            #expect(try await bot.wecom("@团务助手 收到", chat: "wrchat-g1", from: "wx-g1") == 200)
            try await bot.settle()
            try await bot.dingtalk("/进度 T-1", conversation: "cid-c1", from: "staff-c1")
            try await bot.waitUntil("roll call on DingTalk") { _ in api.delivered(to: "tok-c1").contains { $0.text.contains("📋") } }
            #expect(try #require(api.delivered(to: "tok-c1").last { $0.text.contains("📋") }).text.contains("已确认 1/1"))
        }
    }
}
