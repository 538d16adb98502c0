import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore
import LeagueTestSupport
import NIOConcurrencyHelpers
import Testing

/// 2026-11-09 08:30 in Shanghai is 00:30 UTC; these tests run the engine on a manual clock in UTC instants.
private func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

extension TestBot {
    /// A new engine on the same store and clock, then the start-up hook, as after a restart.
    fileprivate func restart() async throws -> TestBot {
        let bot = try await restarted()
        await DeliberationFeature.ensureScheduled(engine: bot.app.engine)
        return bot
    }

    fileprivate func fire() async throws -> Int { try await app.engine.fireDueTimers() }

    fileprivate func to(_ unitID: String) async throws -> [OutboundMessage] { try await outbox().filter { $0.unitID == unitID } }
}

@Suite(.serialized)
struct DeliberationEngineTests {
    @Test func noDoubleReminderAcrossARestartAndALateOneSentOnceTheSameDay() async throws {
        var rig = try await TestBot.engine(at: utc("2026-11-08T02:00:00Z"))  // Nov 8, 10:00 Shanghai
        rig = try await rig.restart()
        rig.clock.set(utc("2026-11-08T10:00:30Z"))  // 18:00:30 on the eve
        #expect(try await rig.fire() == 1)
        let eve = try await rig.outbox().filter { $0.key.contains(":eve:") }
        #expect(Set(eve.map(\.unitID)) == ["c1", "g1", "g2"], "grid and community groups, not towns or the district")
        #expect(eve.allSatisfy { $0.text.contains("明天（11月9日）是议事日") })

        rig = try await rig.restart()
        #expect(try await rig.fire() == 0)
        #expect(try await rig.outbox().filter { $0.key.contains(":eve:") }.count == 3)

        // Down over 08:30, back at 10:00 the same day: the day reminder is sent once at start-up.
        rig.clock.set(utc("2026-11-09T02:00:00Z"))
        rig = try await rig.restart()
        #expect(try await rig.fire() == 1)
        rig = try await rig.restart()
        #expect(try await rig.fire() == 0)
        let day = try await rig.outbox().filter { $0.key.contains(":day:") }
        #expect(day.count == 3)
        #expect(day.first { $0.unitID == "g1" }?.text.contains("重点企业") == true, "the visiting checklist")
    }

    @Test func aReminderMissedByAWholeDayIsNotSent() async throws {
        var rig = try await TestBot.engine(at: utc("2026-11-08T02:00:00Z"))
        rig = try await rig.restart()
        rig.clock.set(utc("2026-11-10T01:00:00Z"))  // Nov 10, 09:00 Shanghai: eve, day and due all missed
        rig = try await rig.restart()
        #expect(try await rig.fire() == 3, "the stale timers fire (and are marked) once")
        // The eve and day reminders are stale; the missing-minutes summary is still news (issue 10)
        // and names the day it covers.
        let sent = try await rig.outbox()
        #expect(sent.allSatisfy { $0.key.contains(":missing:") }, "\(sent.map(\.key))")
        #expect(!sent.isEmpty && sent.allSatisfy { $0.text.contains("11月9日") })
        let pending = try await rig.store.read { try $0.nextTimerDue() }
        #expect(pending == utc("2026-12-08T10:00:00Z"), "December's eve is next")
    }

    @Test func agendaItemsReachTheRightGroups() async throws {
        let rig = try await TestBot.engine(at: utc("2026-11-05T02:00:00Z"))
        try await rig.replies(to: "/议程 讨论暑托班场地", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/议程 @全体网格 走访困境青少年家庭", in: "chat-t1", from: "u-t1")
        #expect(try await rig.to("t1").last?.text.contains("已为 2 个群加入11月9日议事日议程") == true)
        try await rig.replies(to: "/议程", in: "chat-g2", from: "u-g2")
        let list = try #require(try await rig.to("g2").last).text
        #expect(list.contains("走访困境青少年家庭（第一街道）"))
        #expect(!list.contains("暑托班"))

        rig.clock.set(utc("2026-11-08T10:00:00Z"))
        _ = try await rig.fire()
        let g1 = try #require(try await rig.to("g1").first { $0.key == "delib:2026-11:eve:g1" }).text
        let g2 = try #require(try await rig.to("g2").first { $0.key == "delib:2026-11:eve:g2" }).text
        let c1 = try #require(try await rig.to("c1").first { $0.key == "delib:2026-11:eve:c1" }).text
        #expect(g1.contains("1. 讨论暑托班场地") && g1.contains("2. 走访困境青少年家庭"))
        #expect(g2.contains("1. 走访困境青少年家庭") && !g2.contains("暑托班"))
        #expect(!c1.contains("走访困境青少年家庭") && c1.contains("暂无议程"))
    }

    /// Deliberation makes tasks only through the declared seam: given another `saveTask`, a meeting's
    /// action reaches it and the task feature's tables stay empty.
    @Test func aMeetingActionBecomesATaskThroughTheDeclaredSeam() async throws {
        let saved = NIOLockedValueBox<[TaskPolicy.Creation]>([])
        var seams = Seams.live
        seams.saveTask = { creation, _ in saved.withLockedValue { $0.append(creation) } }
        let rig = try await TestBot.engine(at: utc("2026-11-09T11:00:00Z"), seams: seams)
        try await rig.replies(to: "/议事 开始 11月青年议事会", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/待办 @网格员一 周五前确认场地", in: "chat-g1", from: "u-g1")
        let creations = saved.withLockedValue { $0 }
        #expect(creations.count == 1)
        #expect(creations.first?.task.text.contains("周五前确认场地") == true)
        #expect(creations.first?.targets.map(\.unitID) == ["g1"])
        let stored = try await rig.store.read { try $0.task(creations.first?.task.id ?? 0) }
        #expect(stored == nil, "the task feature's save was bypassed, so nothing but the seam stored it")
    }

    @Test func aFullMeetingProducesMinutesAndTasksAndCarriesOpenActions() async throws {
        var rig = try await TestBot.engine(at: utc("2026-11-09T11:00:00Z"))  // 19:00 on the day
        try await rig.replies(to: "/议事 开始 11月青年议事会", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "大家好，我们开始", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/议题 暑托班场地", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/记录 青年之家周六可用", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/决议 暑托班设在青年之家", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/待办 @网格员一 周五前确认场地", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "旁听的居民留言", in: "chat-g1", from: "u-stranger")
        rig.clock.advance(by: 1800)
        try await rig.replies(to: "/议事 结束", in: "chat-g1", from: "u-g1")

        let minutes = try await rig.store.write { try $0.minutes(unitIDs: ["g1"], month: "2026-11") }
        let meeting = try #require(minutes.first)
        #expect(minutes.count == 1)
        #expect(meeting.title == "11月青年议事会")
        #expect(meeting.items.map(\.kind) == [.topic, .note, .agreed, .action])
        #expect(meeting.items[2].topic == "暑托班场地")
        #expect(meeting.transcript.count == 8)
        #expect(meeting.transcript[1] == TranscriptLine(at: utc("2026-11-09T11:00:00Z"), speaker: "网格员一", text: "大家好，我们开始"))
        #expect(meeting.transcript[6].speaker == "u-stranger")

        let action = try #require(meeting.items.first { $0.kind == .action })
        // Issue 11: an action owner is in the meeting unit's subtree (here the grid itself).
        #expect(action.owner?.memberID == "m-g1")
        let task = try #require(try await rig.store.read { try $0.task(action.taskID ?? 0) })
        #expect(task.status == .open && !task.urgent && task.targetSeconds == 600)
        #expect(try await rig.store.read { try $0.targets(ofTask: task.id) }.map(\.unitID) == ["g1"], "assigned to the owner's group")
        let notice = try #require(try await rig.to("g1").first { $0.key == "task:\(task.id):notice:g1" })
        #expect(notice.mentions.map(\.memberID) == ["m-g1"])

        let summary = try #require(try await rig.to("g1").last).text
        #expect(summary.contains("「11月青年议事会」已结束（19:00–19:30"))
        #expect(summary.contains("1. 暑托班设在青年之家"))
        #expect(summary.contains("T-\(task.id) 网格员一：周五前确认场地"))

        // The open action is carried into December's reminders of that group.
        rig.clock.set(utc("2026-12-08T10:00:00Z"))
        rig = try await rig.restart()
        _ = try await rig.fire()
        let december = try #require(try await rig.to("g1").first { $0.key == "delib:2026-12:eve:g1" }).text
        #expect(december.contains("待办 T-\(task.id) 网格员一：周五前确认场地"))
    }

    @Test func aMeetingLeftOpenIsClosedAutomatically() async throws {
        let rig = try await TestBot.engine(at: utc("2026-11-09T02:00:00Z"))
        try await rig.replies(to: "/议事 开始", in: "chat-c1", from: "u-c1")
        try await rig.replies(to: "/决议 每月9号线上议事", in: "chat-c1", from: "u-c1")
        rig.clock.advance(by: 4 * 3600 - 1)
        _ = try await rig.fire()
        #expect(try await rig.store.write { try $0.openMeeting(unitID: "c1") } != nil)
        rig.clock.advance(by: 1)
        _ = try await rig.fire()
        #expect(try await rig.store.write { try $0.openMeeting(unitID: "c1") } == nil)
        let meeting = try #require(try await rig.store.write { try $0.minutes(unitIDs: ["c1"], month: "2026-11") }.first)
        #expect(meeting.autoClosed)
        #expect(meeting.transcript.count == 2)
        let notice = try #require(try await rig.to("c1").last).text
        #expect(notice.contains("已自动结束") && notice.contains("每月9号线上议事"))
    }

    @Test func missingMinutesGoToEachSupervisorGroupOnce() async throws {
        var rig = try await TestBot.engine(at: utc("2026-11-09T02:00:00Z"))
        try await rig.replies(to: "/议事 开始", in: "chat-g1", from: "u-g1")
        try await rig.replies(to: "/议事 结束", in: "chat-g1", from: "u-g1")
        rig.clock.set(utc("2026-11-09T15:59:00Z"))  // 23:59 Shanghai
        rig = try await rig.restart()
        _ = try await rig.fire()
        let summaries = try await rig.outbox().filter { $0.key.hasPrefix("delib:2026-11:missing:") }
        #expect(summaries.map(\.unitID).sorted() == ["c1", "t1"], "one per supervisor group, none to the late groups")
        let community = try #require(summaries.first { $0.unitID == "c1" })
        #expect(community.text.contains("以下1个群尚无议事纪要：第2网格"))
        #expect(!community.text.contains("第1网格"))
        #expect(community.mentions.map(\.memberID) == ["m-c1"])
        #expect(try #require(summaries.first { $0.unitID == "t1" }).text.contains("解放路社区"))
        let events = try await rig.store.read { try $0.events(from: .distantPast, to: .distantFuture) }
        #expect(Set(events.filter { $0.kind == .deliberationMissing }.compactMap(\.unitID)) == ["g2", "c1"])
    }

    @Test func minutesCommandListsCoverageBelowASupervisor() async throws {
        let rig = try await TestBot.engine(at: utc("2026-11-09T02:00:00Z"))
        try await rig.replies(to: "/议事 开始 网格议事", in: "chat-g2", from: "u-g2")
        try await rig.replies(to: "/议事 结束", in: "chat-g2", from: "u-g2")
        try await rig.replies(to: "/纪要 2026-11", in: "chat-c1", from: "u-c1")
        let reply = try #require(try await rig.to("c1").last).text
        #expect(reply.contains("下级已提交纪要 1/2"))
        #expect(reply.contains("未提交：第1网格"))
        try await rig.replies(to: "/纪要 g2", in: "chat-c1", from: "u-c1")
        #expect(try #require(try await rig.to("c1").last).text.contains("「网格议事」"))
        try await rig.replies(to: "/纪要 t2", in: "chat-c1", from: "u-c1")
        #expect(try #require(try await rig.to("c1").last).text.contains("不在本单位范围内"))
    }
}

/// A meeting through signed webhooks on loopback, then exported as Markdown and HTML.
@Suite(.serialized)
struct DeliberationEndToEndTests {
    @Test func aMeetingThroughWebhooksExportsToMarkdownAndHTML() async throws {
        try await withLiveBot(configPath: try writeTestConfig(), clock: ManualClock(utc("2026-11-09T11:00:00Z"))) { bot in
            for text in ["/议事 开始 汇翠园网格议事会", "路灯坏了三盏 <b>急</b>", "/议题 路灯维修", "/决议 本周内报修", "/待办 @网格员一 联系物业报修", "/议事 结束"] {
                #expect(try await bot.say(text, in: "chat-g1", from: "u-g1") == 200)
            }
            try await bot.waitUntil("the minutes summary") { $0.contains { $0.group == "chat-g1" && $0.text.contains("📝 议事纪要") } }
            let summary = try #require(bot.fake.to("chat-g1").first { $0.text.contains("📝") }).text
            #expect(summary.contains("1. 本周内报修"))

            let (key, meetings) = try await bot.store.write { tx in
                (try DeliberationFeature.linkKey(bot.config, tx: tx), try tx.minutes(unitIDs: ["g1"], month: "2026-11"))
            }
            #expect(meetings.count == 1)
            let path = DeliberationFeature.linkPass(bot.config, unitID: "g1", month: "2026-11", subtree: false, memberID: nil, now: utc("2026-11-09T11:00:00Z"), key: key).path
            let (htmlStatus, html) = try await bot.request("GET", path)
            #expect(htmlStatus == 200)
            #expect(html.contains("<title>第1网格 2026-11 议事纪要</title>"))
            #expect(html.contains("路灯坏了三盏 &lt;b&gt;急&lt;/b&gt;"))
            #expect(html.contains("<li>本周内报修</li>"))
            #expect(html.contains("网格员一：联系物业报修"))
            let (mdStatus, markdown) = try await bot.request("GET", path + "&format=md")
            #expect(mdStatus == 200)
            #expect(markdown.hasPrefix("# 第1网格 2026-11 议事纪要"))
            #expect(markdown.contains("## 第1网格 · 汇翠园网格议事会 (M-1)"))
            #expect(markdown.contains("### 决议\n\n- 本周内报修"))
            #expect(markdown.contains("**网格员一**: 路灯坏了三盏 \\<b\\>急\\</b\\>"))
            let (forged, _) = try await bot.request("GET", "/minutes/g1/2026-11?e=9999999999&sig=00000000000000000000000000000000")
            #expect(forged == 403)
        }
    }
}
