import Foundation
import LeagueCore
import Testing

/// The dashboard's pages rendered from fixed values: every page, empty and full, Chinese and English,
/// and every person-written text escaped.
@Suite struct DashboardRenderTests {
    static let evil = "<script>alert(1)</script>&\"'"
    static let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"

    func frame(_ l: Language, title: String = "解放路街道 概览") -> DashboardFrame {
        DashboardFrame(
            language: l, title: title, scopeName: "解放路街道<b>", crumbs: [DashboardLink("任城区", "/dashboard?s=rc&u=rc")],
            nav: [DashboardLink(l.pick("概览", "Overview"), "/dashboard?s=jfl&m=m-li&e=1&sig=ab&u=jfl")], generated: "12-01 16:30", expires: "12-02 16:30")
    }

    /// No script or asset from elsewhere, no unescaped person-written text, and a whole document.
    func checkPage(_ html: String, language: Language) {
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>"))
        #expect(html.contains("lang=\"\(language == .zh ? "zh-Hans" : "en")\""))
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("src=\"http"))
        #expect(!html.contains("href=\"http"))
        #expect(!html.contains("<link "))
        #expect(html.contains("name=\"viewport\""))
        #expect(!html.contains("解放路街道<b>"))
    }

    func fullOverview() -> OverviewPage {
        var own = OverviewRow(unitID: "jfl", name: "解放路街道", tier: "town")
        own.openTasks = 2; own.assigned = 10; own.acknowledged = 8; own.onTime = 7; own.medianAckSeconds = 150; own.overdueNow = 1; own.grade = .yellow
        var a = OverviewRow(unitID: "c1", name: Self.evil, tier: "community", href: "/dashboard?u=c1&x=<1>")
        a.openTasks = 1; a.assigned = 6; a.acknowledged = 6; a.onTime = 6; a.medianAckSeconds = 90; a.grade = .green
        var b = OverviewRow(unitID: "c2", name: "后营社区", tier: "community", href: "/dashboard?u=c2")
        b.openTasks = 1; b.assigned = 4; b.acknowledged = 2; b.onTime = 1; b.overdueNow = 1; b.grade = .red
        return OverviewPage(
            unitName: "解放路街道", month: "2026-12", own: own, children: [a, b],
            openTasks: [OpenTaskRow(label: "T-7", text: Self.evil, urgent: true, waiting: 2, total: 5, overdue: 1, href: "/dashboard/task/7?s=jfl")])
    }

    @Test(arguments: [Language.zh, .en])
    func overviewFullAndEmpty(_ l: Language) {
        let full = DashboardHTML.overview(fullOverview(), frame: frame(l))
        checkPage(full, language: l)
        #expect(full.contains(Self.escaped))
        #expect(full.contains("<svg"))
        #expect(full.contains("80%"))  // the unit's own acknowledgement rate 8/10
        #expect(full.contains("href=\"/dashboard?u=c1&amp;x=&lt;1&gt;\""))
        #expect(full.contains("class=\"dot red\""))
        #expect(full.contains("class=\"overdue\""))
        #expect(full.contains(l.pick("紧急", "urgent")))
        #expect(full.contains(l.pick("下级单位", "Units below")))
        let nothing = OverviewPage(unitName: "g1", month: "2026-12", own: OverviewRow(unitID: "g1", name: "第1网格", tier: "grid"), children: [], openTasks: [])
        let empty = DashboardHTML.overview(nothing, frame: frame(l))
        checkPage(empty, language: l)
        #expect(empty.contains(l.pick("没有下级单位。", "No units below.")))
        #expect(empty.contains(l.pick("没有进行中的任务。", "No open tasks.")))
        #expect(!empty.contains("<svg"))
    }

    func rollCall(live: Bool) -> RollCallPage {
        RollCallPage(
            label: "T-3", text: Self.evil, urgent: false, isReport: false, issuer: "任城区 王川", created: "12-01 09:00", deadline: "09:10",
            status: .open, targetSeconds: 600, elapsed: 900,
            rows: [
                RollCallRow(unitID: "a", name: "第1网格", state: .onTime, ackSeconds: 120, ackBy: Self.evil),
                RollCallRow(unitID: "b", name: "第2网格", state: .late, ackSeconds: 700, ackBy: "李闻闻", steps: [1]),
                RollCallRow(unitID: "c", name: Self.evil, state: .missing, steps: [1]),
            ],
            steps: [
                RollCallStep(step: 0, offset: 300, at: "09:05", told: ["第2网格"], late: 2),
                RollCallStep(step: 1, offset: 600, at: "09:10", told: ["解放路社区"], late: 2),
            ],
            hiddenTargets: 4, eventsHref: live ? "/dashboard/task/3/events?s=c1&m=m&e=1&sig=x" : nil)
    }

    @Test(arguments: [Language.zh, .en])
    func rollCallFullAndEmpty(_ l: Language) {
        let full = DashboardHTML.rollCall(rollCall(live: true), frame: frame(l, title: "T-3"))
        checkPage(full, language: l)
        #expect(full.contains(Self.escaped))
        #expect(full.contains("id=\"timeline\""))
        #expect(full.contains("class=\"on-time\"") && full.contains("class=\"late\"") && full.contains("class=\"missing\""))
        #expect(full.contains("new EventSource(\"/dashboard/task/3/events?s=c1\\u0026m=m\\u0026e=1\\u0026sig=x\")"))
        #expect(full.contains(l.pick("另有 4 个目标群", "4 more target group(s)")))
        #expect(full.contains(l.pick("第 1 级上报", "escalation step 1")))
        let summary = DashboardHTML.rollCallSummary(rollCall(live: true), l)
        #expect(summary.contains("<b>1</b>"))
        // A closed task has no live stream.
        var closed = rollCall(live: false)
        closed.status = .done
        let done = DashboardHTML.rollCall(closed, frame: frame(l))
        #expect(!done.contains("EventSource"))
        #expect(done.contains(l.pick("已完成", "done")))
        var empty = rollCall(live: false)
        empty.rows = []
        empty.steps = []
        let none = DashboardHTML.rollCall(empty, frame: frame(l))
        checkPage(none, language: l)
        #expect(none.contains(l.pick("本范围内没有目标群。", "No target groups in this part of the tree.")))
        #expect(none.contains(l.pick("尚无。", "None yet.")))
    }

    @Test func rollCallUpdateIsJSONWithEscapedText() throws {
        let json = DashboardHTML.rollCallUpdate(rollCall(live: true), changed: [0, 2, 9], language: .zh)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == 2)  // index 9 does not exist
        #expect(rows[0]["c"] as? String == "on-time")
        #expect(rows[0]["b"] as? String == Self.evil)  // set with textContent by the page, never as HTML
        #expect(rows[1]["s"] as? String == "未确认")
        #expect((object["chart"] as? String)?.hasPrefix("<svg") == true)
    }

    func figures(_ id: String, _ name: String, received: Int, onTime: Int, grade: Grade) -> UnitFigures {
        var f = UnitFigures(unitID: id, name: name, tier: "community")
        f.tasksReceived = received; f.acknowledged = received; f.acknowledgedOnTime = onTime; f.grade = grade
        return f
    }

    @Test(arguments: [Language.zh, .en])
    func assessmentFullAndEmpty(_ l: Language) {
        let page = AssessmentPage(
            unitName: "解放路街道", month: "2026-12",
            units: [
                figures("jfl", "解放路街道", received: 10, onTime: 8, grade: .yellow),
                figures("c1", Self.evil, received: 10, onTime: 10, grade: .green),
                figures("c2", "后营社区", received: 10, onTime: 5, grade: .red),
            ],
            hrefs: ["c1": "/dashboard/assessment?u=c1"], green: 0.9, yellow: 0.7,
            months: ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"],
            trend: ["c1": [nil, 0.5, 0.8, 0.95, 1, 1]], csvHref: "/dashboard/assessment.csv?u=jfl",
            previous: DashboardLink("‹ 2026-11", "/dashboard/assessment?month=2026-11"))
        let html = DashboardHTML.assessment(page, frame: frame(l))
        checkPage(html, language: l)
        #expect(html.contains(Self.escaped))
        #expect(html.contains("fill=\"#fbe3e4\""))  // the red band
        #expect(html.contains("class=\"spark\""))
        #expect(html.contains("polyline"))
        #expect(html.contains("assessment.csv"))
        #expect(html.contains("50%"))
        // The grade is the page's own dot and a word; the chat's emoji would show twice (or as a box).
        #expect(html.contains("<span class=\"dot red\"></span>\(l.pick("红", "red"))"))
        #expect(!html.contains("🟢") && !html.contains("🟡") && !html.contains("🔴"))
        let nothing = AssessmentPage(unitName: "x", month: "2026-12", units: [], hrefs: [:], green: 0.9, yellow: 0.7, months: [], trend: [:], csvHref: "/c")
        let empty = DashboardHTML.assessment(nothing, frame: frame(l))
        checkPage(empty, language: l)
        #expect(empty.contains(l.pick("没有数据。", "No figures.")))
    }

    @Test(arguments: [Language.zh, .en])
    func deliberationFullAndEmpty(_ l: Language) {
        let page = DeliberationPage(
            unitName: "解放路街道", month: "2026-12",
            own: MinutesRow(name: "解放路街道", tier: "town", href: nil, minutesHref: "/minutes/jfl/2026-12?subtree=1&sig=a", withMinutes: 1, owing: 3),
            rows: [
                MinutesRow(name: Self.evil, tier: "community", href: "/dashboard/minutes?u=c1", minutesHref: "/minutes/c1/2026-12?subtree=1&sig=b", withMinutes: 1, owing: 2),
                MinutesRow(name: "后营社区", tier: "community", href: "/dashboard/minutes?u=c2", minutesHref: nil, withMinutes: 0, owing: 1),
            ])
        let html = DashboardHTML.deliberation(page, frame: frame(l))
        checkPage(html, language: l)
        #expect(html.contains(Self.escaped))
        #expect(html.contains("/minutes/c1/2026-12?subtree=1&amp;sig=b"))
        #expect(html.contains(l.pick("1/3 个议事单位已有纪要", "1 of 3 deliberating unit(s) have minutes")))
        #expect(html.contains("<svg"))
        let own = MinutesRow(name: "g", tier: "grid", href: nil, minutesHref: nil, withMinutes: 0, owing: 1)
        let empty = DashboardHTML.deliberation(DeliberationPage(unitName: "g", month: "2026-12", own: own, rows: []), frame: frame(l))
        checkPage(empty, language: l)
        #expect(empty.contains(l.pick("没有下级单位。", "No units below.")))
    }

    @Test(arguments: [Language.zh, .en])
    func demandsFullAndEmpty(_ l: Language) {
        let page = DemandsPage(
            unitName: "解放路街道", byState: [.collected: 2, .published: 1, .resolved: 3],
            byCategory: [(Self.evil, 4), ("—", 2)], overdue: 1,
            oldestOpen: [
                DemandRow(label: "D-1", category: Self.evil, state: .published, age: "4天", holder: "任城区", overdue: true),
                DemandRow(label: "D-2", category: nil, state: .collected, age: "1天", holder: "第1网格", overdue: false),
            ])
        let html = DashboardHTML.demands(page, frame: frame(l))
        checkPage(html, language: l)
        #expect(html.contains(Self.escaped))
        #expect(html.contains("class=\"overdue\""))
        #expect(html.contains("<svg"))
        #expect(html.contains(l.pick("本页不显示诉求内容", "shows no demand texts")))
        let empty = DashboardHTML.demands(DemandsPage(unitName: "x", byState: [:], byCategory: [], overdue: 0, oldestOpen: []), frame: frame(l))
        checkPage(empty, language: l)
        #expect(empty.contains(l.pick("暂无诉求。", "No demands.")))
    }

    @Test(arguments: [Language.zh, .en])
    func refusalPagesSayHowToGetANewLink(_ l: Language) {
        for reason in [DashboardRefusal.expired, .invalid, .outOfScope, .role] {
            let html = DashboardHTML.refused(reason: reason, language: l)
            #expect(html.contains(l.pick("发送 /看板", "Send /dashboard")))
        }
        #expect(DashboardHTML.refused(reason: .expired, language: l).contains(l.pick("已过期", "expired")))
    }

    @Test func demandOverdueFollowsTheStateLimit() {
        var demand = Demand(id: 1, unitID: "g1", text: "x", category: nil, createdAt: Date(timeIntervalSince1970: 0), createdBy: "m")
        demand.state = .published
        demand.stateSince = Date(timeIntervalSince1970: 0)
        let limits: [DemandState: Double] = [.published: 100]
        #expect(!DemandRow.isOverdue(demand, limits: limits, now: Date(timeIntervalSince1970: 100)))
        #expect(DemandRow.isOverdue(demand, limits: limits, now: Date(timeIntervalSince1970: 101)))
        demand.state = .resolved
        #expect(!DemandRow.isOverdue(demand, limits: limits, now: Date(timeIntervalSince1970: 1000)))
    }
}
