import Foundation
import GRDB
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Testing

/// The weekly notice of unbound units (durable, injected clock) and reloads of org.yaml that rename,
/// move or remove units bound in chat with a code.
@Suite(.serialized) struct OnboardingLifecycleTests {
    /// Monday 2026-11-30 08:00 in Shanghai.
    static let mondayMorning = ISO8601DateFormatter().date(from: "2026-11-30T00:00:00Z")!

    static func noticeKeys(_ bot: TestBot, week: String) -> [String] {
        bot.fake.requests.map(\.key).filter { $0.hasPrefix("onboard-unbound:\(week):") }.sorted()
    }

    static func waitForTimer(_ bot: TestBot, _ key: String) async throws {
        try await bot.wait("timer \(key) scheduled", timeout: 10) {
            try await bot.store.writer.read({ db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM timers WHERE key = ?", arguments: [key]) }) == 1
        }
    }

    @Test func theWeeklyUnboundNoticeFiresOncePerWeekAcrossRestarts() async throws {
        let path = try writeTestConfig(orgYAML: onboardingOrgYAML, extra: "onboarding: {unbound_notice: \"mon 09:00\"}")
        let clock = ManualClock(Self.mondayMorning)
        let bot = try await TestBot(configPath: path, clock: clock)
        try await withStopping(bot) {
            try await Self.waitForTimer(bot, "onboard-unbound:2026-W49")
            try await Self.waitForTimer(bot, "onboard-unbound:2026-W50")
            try await bot.settle()
            #expect(Self.noticeKeys(bot, week: "2026-W49").isEmpty, "not before Monday 09:00")

            bot.advance(3600)
            try await bot.waitUntil("the community told which grids to chase") { sent in
                sent.contains { $0.key == "onboard-unbound:2026-W49:c1" && $0.text.contains("第2网格") && $0.text.contains("第3网格") }
            }
            try await bot.settle()
            // c1 chases g2 and g3 itself; t1 and d are told the count; g1 has nothing below it.
            #expect(Self.noticeKeys(bot, week: "2026-W49") == ["onboard-unbound:2026-W49:c1", "onboard-unbound:2026-W49:d", "onboard-unbound:2026-W49:t1"])
            let toCommunity = try #require(bot.fake.requests.first { $0.key == "onboard-unbound:2026-W49:c1" })
            #expect(toCommunity.group == "chat-c1" && toCommunity.text.contains("还有 2 个单位") && !toCommunity.mentions.isEmpty)
            #expect(bot.fake.requests.first { $0.key == "onboard-unbound:2026-W49:d" }?.text.contains("另有 2 个单位由其已绑定的上级群督促") == true)

            // g3 binds itself; then the bot restarts later the same Monday: no second notice this week.
            let code = try #require(try await OnboardingServerTests.issue(bot, ["g3"], seed: 5)["g3"])
            try await bot.ask("/绑定 \(code)", in: "chat-g3", from: "u-z", answer: "第3网格", "bound")
        }
        clock.advance(by: 5 * 3600)
        try await withLiveBot(configPath: path, store: bot.store, clock: clock, transport: bot.transport) { again in
            try await again.settle()
            again.advance(3600)
            try await again.settle()
            #expect(Self.noticeKeys(again, week: "2026-W49").count == 3, "once per week, across the restart")
            #expect(try await again.count("SELECT COUNT(*) FROM timers WHERE key = 'onboard-unbound:2026-W49' AND fired_at IS NOT NULL") == 1)

            // Next Monday 09:00: only g2 is left to chase.
            again.advance(7 * 86_400 - 6 * 3600)
            try await again.waitUntil("next week's notice") { $0.contains { $0.key == "onboard-unbound:2026-W50:c1" } }
            let nextWeek = try #require(again.fake.requests.first { $0.key == "onboard-unbound:2026-W50:c1" })
            #expect(nextWeek.text.contains("还有 1 个单位") && nextWeek.text.contains("第2网格") && !nextWeek.text.contains("第3网格"))
            try await Self.waitForTimer(again, "onboard-unbound:2026-W51")
        }
    }

    @Test func theWeeklyNoticeIsOffByDefault() async throws {
        try await withLiveBot(configPath: writeTestConfig(orgYAML: onboardingOrgYAML), clock: ManualClock(Self.mondayMorning)) { bot in
            try await bot.settle()
            bot.advance(7 * 86_400)
            try await bot.settle()
            #expect(try await bot.count("SELECT COUNT(*) FROM timers WHERE kind = '\(UnboundNotice.timerKind.rawValue)'") == 0)
            #expect(!bot.fake.requests.contains { $0.key.hasPrefix("onboard-unbound:") })
        }
    }

    static let g3Block = """
          - {id: g3, name: 第3网格, tier: grid, parent: c1}

        """
    static let g2Block = """
          - {id: g2, name: 第2网格, tier: grid, parent: c1, members: [{id: m-g2, name: 网格员二, roles: [cadre], mobile: "13800000002"}]}

        """

    /// g3 renamed 第三网格 and moved under a new community c2 (bound in org.yaml), which also gets an
    /// unbound grid g5; with `removeG2`, g2 leaves the org.
    static func movedOrg(removeG2: Bool) -> String {
        var text = onboardingOrgYAML
        #expect(text.contains(g3Block) && text.contains(g2Block))
        text = text.replacingOccurrences(
            of: g3Block,
            with: """
                  - {id: c2, name: 新华社区, tier: community, parent: t1, group: {platform: generic, chat: chat-c2},
                      members: [{id: m-c2, name: 社区丁, roles: [admin, cadre], ids: {generic: u-c2}}]}
                  - {id: g3, name: 第三网格, tier: grid, parent: c2}
                  - {id: g5, name: 第5网格, tier: grid, parent: c2}

                """)
        if removeG2 { text = text.replacingOccurrences(of: g2Block, with: "") }
        return text
    }

    @Test func aChatBoundWithACodeSurvivesARenameAndAMoveAndARemovalIsReported() async throws {
        let path = try writeTestConfig(orgYAML: onboardingOrgYAML)
        try await withLiveBot(configPath: path) { bot in
            let codes = try await OnboardingServerTests.issue(bot, ["g2", "g3"], seed: 11)
            #expect(try await bot.say("/绑定 \(try #require(codes["g3"]))", in: "chat-g3", from: "u-z") == 200)
            #expect(try await bot.say("/绑定 \(try #require(codes["g2"]))", in: "chat-g2x", from: "u-y") == 200)
            try await bot.waitUntil("both bound") { sent in sent.contains { $0.group == "chat-g3" && $0.text.contains("已绑定") } && sent.contains { $0.group == "chat-g2x" && $0.text.contains("已绑定") } }
            #expect(try await bot.say("/任务 @全体网格 重载前派发", in: "chat-d", from: "u-d") == 200)
            try await bot.waitUntil("notices to the grids bound in chat") { sent in
                sent.contains { $0.group == "chat-g3" && $0.text.contains("重载前派发") } && sent.contains { $0.group == "chat-g2x" && $0.text.contains("重载前派发") }
            }

            let orgPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("org.yaml").path
            try Self.movedOrg(removeG2: true).write(toFile: orgPath, atomically: true, encoding: .utf8)
            let report = try await bot.app.reloadOrg()
            #expect(report.renamedOrMoved == ["g3"] && report.removed == ["g2"] && report.added.sorted() == ["c2", "g5"] && report.closedTargets == 1)
            #expect(report.bindings.contains("chat generic:chat-g3, bound with a code to g3, is kept: the unit is now 测试区 › 第一街道 › 新华社区 › 第三网格"), "\(report.bindings)")
            #expect(report.bindings.contains { $0.contains("chat generic:chat-g2x is bound to unit g2, which is no longer in org.yaml") && $0.contains("ignored") })
            #expect(report.description.contains("is kept: the unit is now") && report.description.contains("no longer in org.yaml"))

            // The moved grid keeps its chat: the open task is still waiting on it, its new community reaches it,
            // and /绑定 there shows the new path.
            let targets = try await bot.store.read { try $0.targets(ofTask: 1) }
            #expect(targets.first { $0.unitID == "g3" }?.isWaiting == true)
            #expect(try await bot.say("/任务 新社区派发", in: "chat-c2", from: "u-c2") == 200)
            try await bot.waitUntil("the new community's task in the moved grid's chat") { $0.contains { $0.group == "chat-g3" && $0.text.contains("新社区派发") } }
            try await bot.ask("/绑定", in: "chat-g3", from: "u-z", answer: "测试区 › 第一街道 › 新华社区 › 第三网格（用绑定码绑定）", "the binding shown with the new path")

            // The removed grid's chat is no longer heard, and can be bound again with a new code for another unit.
            #expect(try await bot.say("/任务 还在吗", in: "chat-g2x", from: "u-y") == 202)
            let reloaded = bot.app.engine.directory.configured
            let (issued, _) = try await Onboarding.issueCodes(
                for: [try #require(reloaded.unit("g5"))], org: reloaded, store: bot.store,
                ttl: 3600, now: bot.clock.now(), generator: SplitMix(seed: 12))
            let fresh = try #require(issued.first?.code)
            try await bot.ask("/绑定 \(fresh)", in: "chat-g2x", from: "u-y", answer: "新华社区 › 第5网格", "the orphaned chat bound to g5")
            let learned = try await bot.store.write { try $0.learnedBindings() }
            #expect(learned.chats.map { "\($0.chat)=\($0.unitID)" }.sorted() == ["chat-g2x=g5", "chat-g3=g3"])
        }
    }

}

/// A binding made with a code survives a SIGHUP reload of a child-process `leagueops serve`.
@Suite(.serialized, .tags(.process))
struct OnboardingLifecycleProcessTests {
    @Test func serveKeepsABindingMadeWithACodeAcrossASIGHUPThatRenamesAndMovesItsUnit() async throws {
        guard let binary = builtLeagueops() else { return }
        try await withStarted(FakePlatform()) { platform in
            let (config, _) = try writeChildConfig(outboundPort: platform.port)
            let folder = URL(fileURLWithPath: config).deletingLastPathComponent()
            let orgPath = folder.appendingPathComponent("org.yaml").path
            try onboardingOrgYAML.write(toFile: orgPath, atomically: true, encoding: .utf8)
            // The code, as an operator prints it before starting the bot.
            let codesFile = folder.appendingPathComponent("codes.csv").path
            let printed = try runProcess(binary, ["org", "codes", "--config", config, "--unit", "g3", "--format", "csv", "--out", codesFile], in: folder.path)
            #expect(printed.status == 0, "\(printed.err)")
            let row = try #require(try String(contentsOfFile: codesFile, encoding: .utf8).split(separator: "\r\n").dropFirst().first)
            let code = String(row.split(separator: ",")[3])

            let bot = try ChildBot(binary: binary, config: config)
            defer { _ = bot.terminate() }
            #expect(await bot.say("/绑定 \(code)", in: "chat-g3", from: "u-z", id: "bind-1") == 200)
            try await platform.wait("bound") { $0.contains { $0.group == "chat-g3" && $0.text.contains("解放路社区 › 第3网格") } }

            try OnboardingLifecycleTests.movedOrg(removeG2: false).write(toFile: orgPath, atomically: true, encoding: .utf8)
            kill(bot.process.processIdentifier, SIGHUP)
            // The reload is done when the new community's chat is heard; its task reaches the moved grid's chat.
            var attempt = 0
            try await waitFor("the new community's chat heard after the reload", timeout: 20, fallback: 0.05) {
                attempt += 1
                return await bot.say("/任务 信号后新社区派发\(attempt)", in: "chat-c2", from: "u-c2", id: "c2-\(attempt)") == 200
            }
            try await platform.wait("the task in the moved grid's chat") { $0.contains { $0.group == "chat-g3" && $0.text.contains("信号后新社区派发") } }
            #expect(await bot.say("/绑定", in: "chat-g3", from: "u-z", id: "show-1") == 200)
            try await platform.wait("the new path") { $0.contains { $0.group == "chat-g3" && $0.text.contains("新华社区 › 第三网格（用绑定码绑定）") } }
        }
    }
}
