import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueTestSupport
import Testing

/// Issue 11 point 1: members act only for their own unit (or, as admins, for the units below).
@Suite(.serialized)
struct SecurityPermissionTests {
    /// A town with a cadre who is not an admin, and a member listed without roles.
    static let orgWithPlainMembers =
        testOrgYAML + """
              - {id: t3, name: 第三街道, tier: town, parent: d, group: {platform: generic, chat: chat-t3},
                  members: [{id: m-t3, name: 街道丙干部, roles: [cadre], ids: {generic: u-t3}}, {id: m-none, name: 无角色成员, ids: {generic: u-none}}]}

            """

    @Test func aTownCadreInTheDistrictGroupCannotDispatchForTheDistrict() async throws {
        let bot = try await TestBot.engine()
        let replies = try await bot.replies(to: "/任务 紧急 今晚8点前上报人数", in: "chat-d", from: "u-t1")
        #expect(try await bot.store.rowCount("tasks") == 0, "nothing dispatched for the district")
        #expect(replies.count == 1)
        #expect(replies.first?.contains("您是第一街道的成员") == true, "the refusal names the sender's unit: \(replies)")
        #expect(replies.first?.contains("测试区") == true)
    }

    @Test func theRefusalIsInEnglishWithLocaleEn() async throws {
        let bot = try await TestBot.engine(extra: "locale: en")
        let replies = try await bot.replies(to: "/task report the figures", in: "chat-d", from: "u-t1")
        #expect(try await bot.store.rowCount("tasks") == 0)
        #expect(replies.first?.contains("You belong to 第一街道") == true, "\(replies)")
    }

    @Test func anAdminActsForTheUnitsBelowButACadreDoesNot() async throws {
        let bot = try await TestBot.engine(orgYAML: Self.orgWithPlainMembers)
        // The district admin in a town group: allowed (an admin of an ancestor).
        _ = try await bot.replies(to: "/任务 上报人数", in: "chat-t1", from: "u-d")
        #expect(try await bot.store.rowCount("tasks") == 1)
        // A town cadre (not an admin) in a community group below the other town: refused.
        let replies = try await bot.replies(to: "/上报 社区有情况", in: "chat-c1", from: "u-t3")
        #expect(try await bot.store.rowCount("tasks") == 1)
        #expect(replies.first?.contains("您是第三街道的成员") == true, "\(replies)")
        // The same cadre in their own group: allowed.
        _ = try await bot.replies(to: "/上报 街道有情况", in: "chat-t3", from: "u-t3")
        #expect(try await bot.store.rowCount("tasks") == 2)
    }

    @Test func reportingCancellingAndClosingActForTheOwnUnitOnly() async throws {
        let bot = try await TestBot.engine()
        _ = try await bot.replies(to: "/任务 上报人数", in: "chat-t1", from: "u-t1")
        // m-t2 (admin of a sibling town) cannot cancel or close t1's task from t1's group.
        var replies = try await bot.replies(to: "/撤销 T-1", in: "chat-t1", from: "u-t2")
        #expect(replies.first?.contains("您是第二街道的成员") == true, "\(replies)")
        replies = try await bot.replies(to: "/完成 T-1", in: "chat-t1", from: "u-t2")
        #expect(replies.first?.contains("您是第二街道的成员") == true, "\(replies)")
        // A grid member cannot report for the community from the community's group.
        replies = try await bot.replies(to: "/上报 有情况", in: "chat-c1", from: "u-g1")
        #expect(replies.first?.contains("您是第1网格的成员") == true, "\(replies)")
        #expect(try await bot.store.rowCount("tasks") == 1)
    }

    @Test func minutesAndQueriesActForTheSendersUnitOnly() async throws {
        let bot = try await TestBot.engine()
        var replies = try await bot.replies(to: "/纪要", in: "chat-d", from: "u-t2")
        #expect(replies.first?.contains("您是第二街道的成员") == true, "\(replies)")
        replies = try await bot.replies(to: "/查询 任务", in: "chat-d", from: "u-t2")
        #expect(replies.first?.contains("您是第二街道的成员") == true, "\(replies)")
        // In their own group they get an answer.
        replies = try await bot.replies(to: "/纪要", in: "chat-t2", from: "u-t2")
        #expect(replies.first?.contains("您是") == false, "\(replies)")
    }

    @Test func anActionOwnerMustBeInTheMeetingUnitsSubtree() async throws {
        let bot = try await TestBot.engine()
        _ = try await bot.replies(to: "/议事 开始 十一月议事", in: "chat-t1", from: "u-t1")
        var replies = try await bot.replies(to: "/待办 @街道乙 周五前联系物业", in: "chat-t1", from: "u-t1")
        #expect(try await bot.store.rowCount("tasks") == 0, "no task dispatched to another town")
        #expect(replies.first?.contains("街道乙是第二街道的成员") == true, "\(replies)")
        replies = try await bot.replies(to: "/待办 @网格员一 周五前联系物业", in: "chat-t1", from: "u-t1")
        #expect(try await bot.store.rowCount("tasks") == 1, "an owner below the meeting's unit is fine: \(replies)")
    }

    @Test func aMemberWithoutRolesHasNoRoleAndCheckWarns() async throws {
        let bot = try await TestBot.engine(orgYAML: Self.orgWithPlainMembers)
        #expect(bot.config.org.member("m-none")?.roles.isEmpty == true)
        #expect(bot.config.warnings.contains { $0.message.contains("m-none") && $0.line != nil }, "\(bot.config.warnings)")
        let replies = try await bot.replies(to: "/上报 街道有情况", in: "chat-t3", from: "u-none")
        #expect(try await bot.store.rowCount("tasks") == 0)
        #expect(replies.first?.contains("需要角色") == true, "\(replies)")
    }

    @Test func aPlatformIDListedForTwoMembersIsAConfigError() throws {
        let org =
            testOrgYAML + """
                  - {id: t4, name: 第四街道, tier: town, parent: d, members: [{id: m-t4, name: 冒名者, roles: [admin], ids: {generic: u-d}}]}

                """
        let path = try writeTestConfig(orgYAML: org)
        #expect {
            _ = try ConfigLoader.load(path: path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("generic:u-d") && text.contains("m-d") && text.contains("org.yaml:")
        }
    }
}

/// The permission decisions as pure functions.
struct PermissionDecisionTests {
    let org: OrgTree = {
        func unit(_ id: String, _ parent: String?, _ members: [Member]) -> OrgUnit {
            OrgUnit(id: id, name: id, tier: "town", parentID: parent, group: nil, members: members)
        }
        return OrgTree(units: [
            unit("d", nil, [Member(id: "a-d", name: "A", roles: [.admin], ids: [:], unitID: "d")]),
            unit(
                "t1", "d",
                [
                    Member(id: "c-t1", name: "C", roles: [.cadre], ids: [:], unitID: "t1"),
                    Member(id: "n-t1", name: "N", roles: [], ids: [:], unitID: "t1"),
                ]),
            unit("g1", "t1", []),
            unit("t2", "d", []),
        ])
    }()

    @Test func decisions() {
        let admin = org.member("a-d"), cadre = org.member("c-t1"), none = org.member("n-t1")
        #expect(Permissions.actFor(admin, unitID: "g1", roles: [.cadre], org: org) == .allowed)
        #expect(Permissions.actFor(cadre, unitID: "t1", roles: [.cadre, .admin], org: org) == .allowed)
        #expect(Permissions.actFor(cadre, unitID: "g1", roles: [.cadre], org: org) == .otherUnit(memberUnitID: "t1", unitID: "g1"))
        #expect(Permissions.actFor(cadre, unitID: "d", roles: [], org: org) == .otherUnit(memberUnitID: "t1", unitID: "d"))
        #expect(Permissions.actFor(none, unitID: "t1", roles: [.cadre], org: org) == .missingRole([.cadre]))
        #expect(Permissions.actFor(none, unitID: "t1", roles: [], org: org) == .allowed)
        #expect(Permissions.actFor(nil, unitID: "t1", roles: [], org: org) == .unknownSender)
        #expect(Permissions.mayOwnAction(cadre!, meetingUnitID: "d", org: org))
        #expect(!Permissions.mayOwnAction(cadre!, meetingUnitID: "t2", org: org))
    }
}
