import Foundation
import LeagueCore
import Testing

@Suite struct OnboardingCoreTests {
    @Test func mobilesAreNormalizedAndMasked() {
        #expect(Mobile.normalized("138 0000 0000") == "13800000000")
        #expect(Mobile.normalized("+86 138-0000-0000") == "13800000000")
        #expect(Mobile.normalized("1380000000") == nil)
        #expect(Mobile.normalized("23800000000") == nil)
        #expect(Mobile.normalized("1380000000x") == nil)
        #expect(Mobile.masked("13812345678") == "138****5678")
        #expect(Mobile.maskDigits(in: "/登记 张三 13812345678") == "/登记 张三 138****5678")
        #expect(Mobile.maskDigits(in: "/登记 张三 138 1234 5678") == "/登记 张三 138 **** 5678")
        // A mistyped number is not kept in full either.
        #expect(!Mobile.maskDigits(in: "/登记 张三 1381234567").contains("1381234567"))
        #expect(Mobile.maskDigits(in: "/登记 张三") == "/登记 张三")
    }

    @Test func nameAndMobileAreSplitFromTheText() throws {
        let zh = try #require(Mobile.splitNameAndMobile("张三 13812345678"))
        #expect(zh.name == "张三" && zh.mobile == "13812345678")
        let en = try #require(Mobile.splitNameAndMobile("Li Wei 138 1234 5678"))
        #expect(en.name == "Li Wei" && Mobile.normalized(en.mobile) == "13812345678")
        #expect(Mobile.splitNameAndMobile("13812345678") == nil)
        #expect(Mobile.splitNameAndMobile("张三 12345") == nil)
    }

    @Test func codesUseUnambiguousCharactersAndNormalize() {
        var generator = SplitMix(seed: 7)
        var seen: Set<String> = []
        for _ in 0..<500 {
            let code = BindingCodeText.generate(using: &generator)
            #expect(code.count == 9 && code.dropFirst(4).first == "-")
            #expect(!code.contains(where: { "0O1IL".contains($0) }))
            seen.insert(code)
        }
        #expect(seen.count == 500)
        #expect(BindingCodeText.normalized("k7qm-3xpa") == "K7QM3XPA")
        #expect(BindingCodeText.normalized("K7QM 3XPA") == "K7QM3XPA")
        #expect(BindingCodeText.normalized("K7QM-3XP") == nil)
        #expect(BindingCodeText.normalized("O7QM-3XPA") == nil)
    }

    static func tree() -> OrgTree {
        OrgTree(units: [
            testUnit("d", "任城区", "district", nil, roles: [.admin]),
            OrgUnit(
                id: "t", name: "解放路街道", tier: "town", parentID: "d", group: nil,
                members: [Member(id: "m-t", name: "李闻", roles: [.admin], ids: [:], mobile: "13800000001", unitID: "t")]),
            OrgUnit(
                id: "g", name: "第3网格", tier: "grid", parentID: "t",
                group: GroupBinding(platform: "dingtalk", chat: "", credentials: ["robot_token": "tok-g"]), members: []),
        ])
    }

    @Test func learnedBindingsAreLaidOverOrgYAMLWhichWins() {
        let at = Date(timeIntervalSince1970: 0)
        let learned = LearnedBindings(
            chats: [
                ChatBindingRecord(platform: "generic", chat: "chat-t", unitID: "t", boundAt: at, boundBy: "u"),
                ChatBindingRecord(platform: "generic", chat: "chat-x", unitID: "d", boundAt: at, boundBy: "u"),  // d is in org.yaml
                ChatBindingRecord(platform: "generic", chat: "chat-gone", unitID: "gone", boundAt: at, boundBy: "u"),
            ],
            members: [
                MemberIDRecord(platform: "generic", userID: "u-t", memberID: "m-t", registeredAt: at),
                MemberIDRecord(platform: "generic", userID: "u-other", memberID: "m-d", registeredAt: at),  // m-d has u-d in org.yaml
            ]
        )
        let (tree, conflicts) = OrgOverlay.apply(learned, to: Self.tree())
        #expect(tree.unit(platform: "generic", chat: "chat-t")?.id == "t")
        #expect(tree.unit(platform: "generic", chat: "chat-d")?.id == "d")
        #expect(tree.unit(platform: "generic", chat: "chat-x") == nil)
        #expect(tree.member(platform: "generic", userID: "u-t")?.id == "m-t")
        #expect(tree.member(platform: "generic", userID: "u-d")?.id == "m-d")
        #expect(tree.member(platform: "generic", userID: "u-other") == nil)
        #expect(conflicts.count == 3)
        // A robot without a chat is not a bound group until /绑定.
        #expect(tree.unit("g")?.group == nil)
        #expect(tree.path(of: "g") == "任城区 › 解放路街道 › 第3网格")
    }

    @Test func aGroupBoundByCodeKeepsItsRobotFromOrgYAML() {
        let learned = LearnedBindings(chats: [ChatBindingRecord(platform: "dingtalk", chat: "cid-g", unitID: "g", boundAt: Date(), boundBy: "s")])
        let (tree, conflicts) = OrgOverlay.apply(learned, to: Self.tree())
        #expect(conflicts.isEmpty)
        #expect(tree.unit(platform: "dingtalk", chat: "cid-g")?.group?.credentials["robot_token"] == "tok-g")
    }
}
