import Foundation
import GRDB
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Testing

/// The test org with grids g2 and g3 not bound to any chat, and g2's cadre on the roster by mobile only.
let onboardingOrgYAML = """
    units:
      - {id: d, name: 测试区, tier: district, group: {platform: generic, chat: chat-d}, members: [{id: m-d, name: 区书记, roles: [admin, cadre], ids: {generic: u-d}}]}
      - {id: t1, name: 第一街道, tier: town, parent: d, group: {platform: generic, chat: chat-t1}, members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {generic: u-t1}}]}
      - {id: c1, name: 解放路社区, tier: community, parent: t1, group: {platform: generic, chat: chat-c1},
          members: [{id: m-c1, name: 社区丙, roles: [admin, cadre], ids: {generic: u-c1}}]}
      - {id: g1, name: 第1网格, tier: grid, parent: c1, group: {platform: generic, chat: chat-g1},
          members: [{id: m-g1, name: 网格员一, roles: [cadre], ids: {generic: u-g1}, mobile: "13800000001"}]}
      - {id: g2, name: 第2网格, tier: grid, parent: c1, members: [{id: m-g2, name: 网格员二, roles: [cadre], mobile: "13800000002"}]}
      - {id: g3, name: 第3网格, tier: grid, parent: c1}

    """

@Suite(.serialized)
struct OnboardingServerTests {
    static func issue(_ bot: TestBot, _ units: [String], seed: UInt64) async throws -> [String: String] {
        let (issued, _) = try await Onboarding.issueCodes(
            for: units.compactMap { bot.config.org.unit($0) }, org: bot.config.org, store: bot.store,
            ttl: bot.config.onboarding.codeTTL, now: bot.clock.now(), generator: SplitMix(seed: seed)
        )
        return Dictionary(uniqueKeysWithValues: issued.map { ($0.unit.id, $0.code) })
    }

    static func audit(_ bot: TestBot, _ action: String) async throws -> [String] {
        try await bot.store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT outcome || ' ' || detail FROM audit WHERE action = ? ORDER BY id", arguments: [action])
        }
    }

    @Test func anUnboundChatBindsWithACodeThenReceivesTasks() async throws {
        try await withLiveBot(configPath: writeTestConfig(orgYAML: onboardingOrgYAML, extra: "onboarding: {code_ttl: 1h}")) { bot in
            // g3's code is issued first and left to expire; g2's is fresh.
            let old = try await Self.issue(bot, ["g3"], seed: 1)
            bot.advance(2 * 3600)
            let codes = try await Self.issue(bot, ["g2"], seed: 2)
            let code = try #require(codes["g2"])

            // An unbound chat is not heard, except for /绑定.
            #expect(try await bot.say("/任务 测试", in: "chat-new", from: "u-x") == 202)
            #expect(try await bot.inboundCount() == 0)
            try await bot.ask("/绑定 ABCD-EFGH", in: "chat-new", from: "u-x", answer: "无效", "refusal of an unknown code")
            try await bot.ask("/绑定 \(try #require(old["g3"]))", in: "chat-old", from: "u-x", answer: "已过期", "refusal of an expired code")

            #expect(try await bot.say("/绑定 \(code.lowercased())", in: "chat-new", from: "u-x") == 200)
            try await bot.waitUntil("the binding's answer with the unit's path") { sent in
                sent.contains { $0.group == "chat-new" && $0.text.contains("测试区 › 第一街道 › 解放路社区 › 第2网格") && $0.text.contains("收到") }
            }
            // At once: the community's task reaches the newly bound group.
            #expect(try await bot.say("/任务 今晚统计志愿者人数", in: "chat-c1", from: "u-c1") == 200)
            try await bot.waitUntil("the task notice in the new group") { $0.contains { $0.group == "chat-new" && $0.text.contains("今晚统计志愿者人数") } }
            #expect(try await bot.store.read { try $0.targets(ofTask: 1) }.map(\.unitID).sorted() == ["g1", "g2"], "g3 has no group yet")

            // A used code, and a code of a unit bound elsewhere, are refused.
            try await bot.ask("/绑定 \(code)", in: "chat-other", from: "u-y", answer: "用过", "refusal of a used code")
            let hash = try #require(Onboarding.storedHash(of: "K7QM-3XPA"))
            let now = bot.clock.now()
            try await bot.store.write { tx in
                try tx.issueCodes([BindingCodeRecord(hash: hash, unitID: "g2", createdAt: now, expiresAt: now.addingTimeInterval(600))])
            }
            try await bot.ask("/绑定 K7QM-3XPA", in: "chat-third", from: "u-y", answer: "已经绑定到另一个群", "refusal of a unit bound elsewhere")
            // In the bound group, /绑定 shows the binding and a code is refused.
            #expect(try await bot.say("/绑定", in: "chat-new", from: "u-x") == 200)
            try await bot.waitUntil("the binding shown") { $0.contains { $0.group == "chat-new" && $0.text.contains("本群绑定的单位") && $0.text.contains("用绑定码绑定") } }

            // /查询 绑定: the community's figures, aggregates only.
            try await bot.ask("/查询 绑定", in: "chat-c1", from: "u-c1", answer: "绑定与登记情况", "binding figures")
            let figures = try #require(bot.fake.to("chat-c1").last { $0.text.contains("绑定与登记情况") }).text
            #expect(figures.contains("网格：群已绑定 2/3，成员已登记 1/2") && figures.contains("村社区：群已绑定 1/1，成员已登记 1/1"), "\(figures)")
            #expect(!figures.contains("网格员二") && !figures.contains("第3网格"))

            // /解绑: not by a cadre of another grid; by the community's admin, for the grid below.
            try await bot.ask("/解绑 g2", in: "chat-g1", from: "u-g1", answer: "没有权限", "refusal for a non-admin")
            try await bot.ask("/解绑 g2", in: "chat-c1", from: "u-c1", answer: "已解除", "unbinding confirmed")
            #expect(try await bot.say("/任务 还在吗", in: "chat-new", from: "u-x") == 202)

            let binds = try await Self.audit(bot, "onboard.bind")
            #expect(binds.filter { $0.hasPrefix("allowed generic:chat-new") }.count == 1)
            #expect(binds.filter { $0.hasPrefix("refused") }.count == 4)
            #expect(try await Self.audit(bot, "onboard.unbind") == ["allowed generic:chat-new"])
            // Only hashes are stored.
            let stored = try await bot.store.writer.read { db in try String.fetchAll(db, sql: "SELECT code_hash FROM onboard_codes") }
            #expect(!stored.contains { $0.contains(BindingCodeText.normalized(code)!) })
        }
    }

    @Test func aBindingLearnedInChatSurvivesARestart() async throws {
        let path = try writeTestConfig(orgYAML: onboardingOrgYAML)
        let bot = try await TestBot(configPath: path)
        try await withStopping(bot) {
            let code = try #require(try await Self.issue(bot, ["g3"], seed: 3)["g3"])
            try await bot.ask("/绑定 \(code)", in: "chat-g3", from: "u-z", answer: "第3网格", "bound")
        }
        try await withLiveBot(configPath: path, store: bot.store, clock: bot.clock) { again in
            #expect(try await again.say("/任务 重启后派发", in: "chat-c1", from: "u-c1") == 200)
            try await again.waitUntil("the notice after a restart") { $0.contains { $0.group == "chat-g3" && $0.text.contains("重启后派发") } }
        }
    }

    /// `leagueops org status` and `org export` read what was learned in chat through these.
    @Test func statusAndExportIncludeWhatWasLearnedInChat() async throws {
        let config = try ConfigLoader.load(path: try writeTestConfig(orgYAML: onboardingOrgYAML))
        let store = try SQLiteStore()
        let now = Date()
        try await store.write { tx in
            try tx.bindChat(ChatBindingRecord(platform: "generic", chat: "chat-g2", unitID: "g2", boundAt: now, boundBy: "u-x"))
            try tx.bindChat(ChatBindingRecord(platform: "generic", chat: "chat-gone", unitID: "g9", boundAt: now, boundBy: "u-y"))
            try tx.registerMemberID(MemberIDRecord(platform: "generic", userID: "u-g2", memberID: "m-g2", registeredAt: now))
        }
        let before = OnboardingStatus.compute(config.org, root: "c1").total
        #expect(before.bound == 2 && before.members == 3 && before.registered == 2)
        let (status, conflicts) = try await Onboarding.status(org: config.org, root: "c1", store: store)
        #expect(status.total.units == 4 && status.total.bound == 3 && status.total.members == 3 && status.total.registered == 3)
        #expect(status.pending.map(\.unit.id) == ["g3"])
        #expect(conflicts.map(\.en) == ["chat generic:chat-gone is bound to unit g9, which is no longer in org.yaml"])

        let parsed = try OrgFileMerge.parse(onboardingOrgYAML, file: "org.yaml")
        let (yaml, notes, learned) = try await Onboarding.export(parsed, store: store)
        #expect(learned.chats.count == 2 && learned.members.count == 1)
        #expect(notes == ["chat generic:chat-gone is bound to g9, which is not in the org file (left out)"])
        let (loaded, problems) = try loadOrgText(yaml, platforms: ["generic"])
        let tree = try #require(loaded)
        #expect(problems.isEmpty, "\(problems)")
        #expect(tree.unit("g2")?.group?.chat == "chat-g2")
        #expect(tree.unit("g2")?.members.first?.ids["generic"] == "u-g2")
    }

    @Test func membersRegisterThemselvesWithMaskedMobiles() async throws {
        let org = onboardingOrgYAML.replacingOccurrences(
            of: "parent: c1, members: [{id: m-g2", with: "parent: c1, group: {platform: generic, chat: chat-g2}, members: [{id: m-g2")
        try await withLiveBot(configPath: writeTestConfig(orgYAML: org)) { bot in
            // A wrong mobile is refused without naming anyone on the roster.
            try await bot.ask("/登记 网格员二 13900000000", in: "chat-g2", from: "u-new", answer: "登记未成功", "refusal")
            let refusal = try #require(bot.fake.to("chat-g2").last)
            #expect(!refusal.text.contains("网格员二") && !refusal.text.contains("13800000002") && refusal.text.contains("139****0000"))
            // Another unit's member is not found from this group.
            #expect(try await bot.say("/登记 网格员一 13800000001", in: "chat-g2", from: "u-new") == 200)
            try await bot.settle()
            #expect(bot.fake.to("chat-g2").filter { $0.text.contains("登记未成功") }.count == 2)

            #expect(try await bot.say("/登记 网格员二 138 0000 0002", in: "chat-g2", from: "u-new") == 200)
            try await bot.waitUntil("confirmation") { $0.contains { $0.group == "chat-g2" && $0.text.contains("登记成功") && $0.text.contains("138****0002") } }
            // The store keeps the messages with the mobile masked, never in full.
            let texts = try await bot.store.writer.read { db in try String.fetchAll(db, sql: "SELECT text FROM inbound") }
            #expect(texts.count == 3)
            #expect(texts.allSatisfy { !$0.contains("13900000000") && !$0.contains("0000 0002") && !$0.contains("13800000001") })
            #expect(texts.contains("/登记 网格员二 138 **** 0002"))
            let audits = try await Self.audit(bot, "onboard.register")
            #expect(audits.count == 3 && audits.last == "allowed m-g2 (138****0002)")
            #expect(audits.allSatisfy { !$0.contains("13800000002") && !$0.contains("13900000000") })

            // The registered member's 收到 counts.
            #expect(try await bot.say("/任务 检查登记", in: "chat-c1", from: "u-c1") == 200)
            try await bot.waitUntil("notice to g2") { $0.contains { $0.group == "chat-g2" && $0.text.contains("检查登记") } }
            #expect(try await bot.say("收到", in: "chat-g2", from: "u-new") == 200)
            try await bot.settle()
            let targets = try await bot.store.read { try $0.targets(ofTask: 1) }
            #expect(targets.first { $0.unitID == "g2" }?.acknowledgedAt != nil)
            #expect(targets.first { $0.unitID == "g1" }?.acknowledgedAt == nil)
        }
    }

    @Test func aDingTalkGroupBindsItselfAndReceivesTasksThroughItsRobot() async throws {
        let org = """
            units:
              - {id: d, name: 测试区, tier: district, group: {platform: generic, chat: chat-d}, members: [{id: m-d, name: 区书记, roles: [admin, cadre], ids: {generic: u-d}}]}
              - {id: g, name: 第9网格, tier: town, parent: d, group: {platform: dingtalk, robot_token: tok-g, robot_secret: SECg},
                  members: [{id: m-g, name: 钉钉网格员, roles: [cadre], mobile: "13700000007"}]}

            """
        try await withPlatformBot(orgYAML: org) { bot in
            let (issued, _) = try await Onboarding.issueCodes(
                for: [try #require(bot.config.org.unit("g"))], org: bot.config.org, store: bot.store,
                ttl: 3600, now: bot.clock.now(), generator: SplitMix(seed: 9))
            let code = try #require(issued.first?.code)
            #expect(try await bot.dingtalk("/绑定 \(code)", conversation: "cid-g", from: "staff-g") == 200)
            try await bot.waitUntil("the answer through the unit's robot") { received in
                received.contains { $0.robot == "tok-g" && $0.accepted && $0.text.contains("测试区 › 第9网格") }
            }
            #expect(try await bot.dingtalk("/登记 钉钉网格员 13700000007", conversation: "cid-g", from: "staff-g") == 200)
            try await bot.waitUntil("registered") { $0.contains { $0.robot == "tok-g" && $0.text.contains("137****0007") } }
            let body = TestBot.body(id: "d-1", chat: "chat-d", sender: "u-d", text: "/任务 钉钉群派发测试", ts: bot.clock.now().timeIntervalSince1970)
            let status = try await bot.post("/webhook/generic", body: body, headers: [GenericAdapter.signatureHeader: GenericAdapter.signature(body: body, secret: testSecret)]).0
            #expect(status == 200)
            try await bot.waitUntil("the task through the DingTalk robot") { $0.contains { $0.robot == "tok-g" && $0.accepted && $0.text.contains("钉钉群派发测试") } }
            #expect(try await bot.dingtalk("收到", conversation: "cid-g", from: "staff-g") == 200)
            try await bot.settle()
            #expect(try await bot.store.read { try $0.targets(ofTask: 1) }.first?.acknowledgedAt != nil)
        }
    }
}

/// The real `leagueops` binary with a config outside the checkout, run from another folder.
@Suite(.tags(.process)) struct InstalledBinaryProcessTests {
    @Test func checkAndCodesWorkFromAnyFolderWithTheBuiltInCatalogue() throws {
        guard let binary = builtLeagueops() else { return }
        let etc = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-etc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: etc) }
        // A minimal config as an operator writes it: no commands folder, a store path relative to it.
        let config = try writeTestConfig(
            orgYAML: onboardingOrgYAML, directory: etc,
            main: "platforms:\n  generic: {secret: s, outbound_url: http://127.0.0.1:9/m}\nstore: {sqlite: var/bot.sqlite}\n")

        let check = try runProcess(binary, ["check", "--config", config], in: "/")
        #expect(check.status == 0, "\(check.err)")
        #expect(check.out.contains("OK: 6 units") && check.out.contains("\(DefaultCatalogue.files.count) commands"))

        let csv = etc.appendingPathComponent("codes.csv").path
        let codes = try runProcess(binary, ["org", "codes", "--config", config, "--unit", "c1", "--subtree", "--format", "csv", "--out", csv], in: "/")
        #expect(codes.status == 0, "\(codes.err)")
        #expect(codes.err.contains("2 codes issued") && codes.err.contains("2 units already bound were skipped"))
        let data = try Data(contentsOf: URL(fileURLWithPath: csv))
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF], "UTF-8 with BOM, for Excel")
        let lines = String(decoding: data.dropFirst(3), as: UTF8.self).split(separator: "\r\n")
        #expect(lines.first == "单位编号,单位,层级,绑定码,有效期至,在群里发送")
        #expect(lines.count == 3 && lines[1].hasPrefix("g2,测试区 › 第一街道 › 解放路社区 › 第2网格,grid,") && lines[2].hasPrefix("g3,"))
        // The store went next to the config, not into the working directory.
        #expect(FileManager.default.fileExists(atPath: etc.appendingPathComponent("var/bot.sqlite").path))
    }
}

/// `serve` reloads org.yaml on SIGHUP: validated first; renames, moves and removals while tasks are open.
@Suite(.serialized) struct OrgReloadTests {
    static func renamedAndRemoved() -> String {
        // t1 renamed, g2 removed; the rest as in the test org.
        testOrgYAML.replacingOccurrences(of: "name: 第一街道", with: "name: 解放路街道（更名）")
            .replacingOccurrences(
                of: """
                      - {id: g2, name: 第2网格, tier: grid, parent: c1, group: {platform: generic, chat: chat-g2}, members: [{id: m-g2, name: 网格员二, roles: [cadre], ids: {generic: u-g2}}]}
                    """, with: "")
    }

    @Test func aReloadKeepsOpenTasksAndClosesARemovedUnitsTargets() async throws {
        let path = try writeTestConfig()
        try await withLiveBot(configPath: path) { bot in
            #expect(try await bot.say("/任务 @全体网格 重载前派发", in: "chat-d", from: "u-d") == 200)
            try await bot.waitUntil("notices") { $0.contains { $0.group == "chat-g2" } && $0.contains { $0.group == "chat-g1" } }

            // A bad file is refused with file:line and the running org stays.
            let orgPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("org.yaml").path
            try (testOrgYAML + "  - id: bad\n    name: 坏单位\n    tier: grid\n    parent: nowhere\n").write(toFile: orgPath, atomically: true, encoding: .utf8)
            await #expect(throws: ConfigError.self) { _ = try await bot.app.reloadOrg() }
            do { _ = try await bot.app.reloadOrg() } catch let error as ConfigError {
                #expect(error.description.contains("org.yaml:") && error.description.contains("unknown parent “nowhere”"))
            }
            #expect(bot.app.engine.org.unit("bad") == nil && bot.app.engine.org.unit("g2") != nil)

            try Self.renamedAndRemoved().write(toFile: orgPath, atomically: true, encoding: .utf8)
            let report = try await bot.app.reloadOrg()
            #expect(report.removed == ["g2"] && report.renamedOrMoved == ["t1"] && report.closedTargets == 1)
            #expect(bot.app.engine.org.unit("t1")?.name == "解放路街道（更名）")
            try await bot.waitUntil("the issuer told about the removed unit") { $0.contains { $0.group == "chat-d" && $0.text.contains("已从组织架构中移除") && $0.text.contains("第2网格") } }
            // The open task goes on: g1 acknowledges, and only g1 was waiting after the reload.
            #expect(try await bot.say("收到", in: "chat-g1", from: "u-g1") == 200)
            try await bot.settle()
            let targets = try await bot.store.read { try $0.targets(ofTask: 1) }
            #expect(targets.allSatisfy { $0.acknowledgedAt != nil })
            #expect(targets.first { $0.unitID == "g2" }?.acknowledgedBy == "unit-removed")
            // The removed unit's chat is no longer heard.
            #expect(try await bot.say("收到", in: "chat-g2", from: "u-g2") == 202)
        }
    }

}

/// `leagueops serve` as a child process reloads org.yaml on SIGHUP.
@Suite(.serialized, .tags(.process))
struct OrgReloadProcessTests {
    @Test func serveReloadsOnSIGHUP() async throws {
        guard let binary = builtLeagueops() else { return }
        try await withStarted(FakePlatform()) { platform in
            let (config, _) = try writeChildConfig(outboundPort: platform.port)
            let bot = try ChildBot(binary: binary, config: config)
            defer { _ = bot.terminate() }
            #expect(await bot.say("/任务 @全体网格 信号重载", in: "chat-d", from: "u-d", id: "hup-1") == 200)
            try await platform.wait("notices") { received in received.contains { $0.group == "chat-g2" } }
            let orgPath = URL(fileURLWithPath: config).deletingLastPathComponent().appendingPathComponent("org.yaml").path
            try OrgReloadTests.renamedAndRemoved().write(toFile: orgPath, atomically: true, encoding: .utf8)
            kill(bot.process.processIdentifier, SIGHUP)
            try await platform.wait("the issuer told about the removed unit") { received in
                received.contains { $0.group == "chat-d" && $0.text.contains("已从组织架构中移除") }
            }
            // Still serving, and the removed unit's chat is no longer heard.
            #expect(await bot.say("收到", in: "chat-g2", from: "u-g2", id: "hup-2") == 202)
            #expect(await bot.say("收到", in: "chat-g1", from: "u-g1", id: "hup-3") == 200)
        }
    }
}
