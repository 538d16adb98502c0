import Foundation
import Testing

@testable import LeagueCore

/// A unit of a test tree with one member, `m-<id>` named 干部<id>, and the group `chat-<id>` unless unbound.
func testUnit(_ id: String, _ name: String, _ tier: String, _ parent: String?, roles: Set<Role> = [.admin, .cadre], bound: Bool = true) -> OrgUnit {
    OrgUnit(
        id: id, name: name, tier: tier, parentID: parent, group: bound ? GroupBinding(platform: "generic", chat: "chat-\(id)") : nil,
        members: [Member(id: "m-\(id)", name: "干部\(id)", roles: roles, ids: ["generic": "u-\(id)"], unitID: id)])
}

/// district d → towns t1, t2; t1 → community c1 → grids g1, g2.
let registryOrg = OrgTree(units: [
    testUnit("d", "测试区", "district", nil),
    testUnit("t1", "第一街道", "town", "d"),
    testUnit("t2", "第二街道", "town", "d"),
    testUnit("c1", "解放路社区", "community", "t1"),
    testUnit("g1", "第1网格", "grid", "c1", roles: [.cadre]),
    testUnit("g2", "第2网格", "grid", "c1", roles: [.cadre]),
])

/// Who may act for a group: its own members, and admins of a unit above it; nobody from beside or below.
@Suite struct ActingForAUnitTests {
    @Test func membersAndAdminsAboveMayActOthersMayNot() throws {
        let org = registryOrg
        let member = { (id: String) in try #require(org.member(id)) }
        #expect(try org.mayActFor(member("m-g1"), unitID: "g1"))
        #expect(try org.mayActFor(member("m-c1"), unitID: "g1"), "an admin of the community above")
        #expect(try org.mayActFor(member("m-d"), unitID: "g1"), "the district admin")
        #expect(try !org.mayActFor(member("m-g2"), unitID: "g1"), "a sibling grid's cadre")
        #expect(try !org.mayActFor(member("m-t2"), unitID: "g1"), "an admin of another town")
        #expect(try !org.mayActFor(member("m-g1"), unitID: "c1"), "a grid cadre for the community above")
        #expect(try !org.isAdmin(member("m-g1"), over: "g1"), "a cadre without the admin role")
    }
}

@Suite struct RegistryImportTests {
    @Test func goodFileWithChineseHeaderAndQuotedFields() throws {
        let csv =
            "\u{FEFF}网格,姓名,年龄段,状态,困境,类别,联系人\r\n"
            + "g1,\"李, 小明\",14-17,student,yes,\"留守,\"\"隔代\"\"\",m-g1\r\n"
            + "g1,王小红,0-13,学生,否,,m-c1\r\n"
            + "\r\n"
            + "g2,\"赵\n一诺\",25-35,working,no,,m-g2\n"
        let byGrid = try YouthImport.parse(csv, org: registryOrg).get()
        #expect(byGrid["g1"]?.count == 2)
        #expect(byGrid["g2"]?.count == 1)
        let first = try #require(byGrid["g1"]?.first)
        #expect(first.name == "李, 小明")
        #expect(first.category == "留守,\"隔代\"")
        #expect(first.ageBand == .teen && first.status == .student && first.inDifficulty)
        #expect(byGrid["g1"]?[1].status == .student && byGrid["g1"]?[1].inDifficulty == false)
        #expect(byGrid["g2"]?.first?.name == "赵\n一诺")
    }

    @Test func everyKindOfBadRowIsReportedByLineAndNothingIsReturned() throws {
        let csv = """
            grid,name,age_band,status,in_difficulty,category,contact
            g1,"多行
            备注",14-17,student,no,,m-g1
            g9,甲,14-17,student,no,,m-g1
            g1,,14-17,student,no,,m-g1
            g1,乙,12-15,student,no,,m-g1
            g1,丙,14-17,retired,no,,m-g1
            g1,丁,14-17,student,maybe,,m-g1
            g1,戊,14-17,student,no,,m-nobody
            g1,己,14-17,student,no,,m-g2
            g1,庚,14-17,student,no
            g1,辛,14-17,student,no,370811200901011234,m-g1
            c1,壬,14-17,student,no,,m-c1
            """
        let errors = try #require(throws: ImportErrors.self, "a file with bad rows was accepted") { try YouthImport.parse(csv, org: registryOrg).get() }
        let byLine = Dictionary(grouping: errors.problems, by: \.line).mapValues { $0.map(\.message).joined() }
        #expect(byLine[2] == nil, "the quoted two-line record is good")
        #expect(byLine[4]?.contains("grid “g9” is not in the org tree") == true)
        #expect(byLine[5]?.contains("name is empty") == true)
        #expect(byLine[6]?.contains("age_band “12-15”") == true)
        #expect(byLine[7]?.contains("status “retired”") == true)
        #expect(byLine[8]?.contains("in_difficulty “maybe”") == true)
        #expect(byLine[9]?.contains("“m-nobody” is not a member id") == true)
        #expect(byLine[10]?.contains("does not belong to grid g1") == true)
        #expect(byLine[11]?.contains("has 5 fields") == true)
        #expect(byLine[12]?.contains("national ID") == true)
        #expect(byLine[13]?.contains("is a community, not a grid") == true)
        #expect(errors.problems.count == 10)
    }

    @Test(arguments: ["id_number", "身份证", "身份证号"])
    func anIDNumberColumnRefusesTheFile(column: String) throws {
        let csv = "grid,name,age_band,status,in_difficulty,category,contact,\(column)\ng1,甲,14-17,student,no,,m-g1,\n"
        let errors = try #require(throws: ImportErrors.self, "a file with an ID column was accepted") { try YouthImport.parse(csv, org: registryOrg).get() }
        #expect(errors.problems.count == 1)
        #expect(errors.problems[0].line == 1)
        #expect(errors.problems[0].message.contains("national ID"))
    }

    @Test func missingAndUnknownColumnsAreReported() throws {
        let errors = try #require(throws: ImportErrors.self, "accepted") { try YouthImport.parse("grid,name,age,status\n", org: registryOrg).get() }
        let text = errors.description
        #expect(text.contains("unknown column “age”"))
        #expect(text.contains("missing column “age_band”"))
        #expect(text.contains("missing column “contact”"))
    }
}

@Suite struct DemandLifecycleTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    var settings: RegistrySettings {
        var s = RegistrySettings()
        s.demandLimits = [.collected: 7 * 86_400, .published: 3 * 86_400, .claimed: 2 * 86_400, .inProgress: 14 * 86_400]
        return s
    }

    @Test func categoryIsSplitOffAndTheFirstTimerIsSet() {
        let r = DemandPolicy.register(id: 1, unitID: "g1", text: "暑期无人看管 #留守", by: "m-g1", settings: settings, now: t0)
        #expect(r.demand.text == "暑期无人看管")
        #expect(r.demand.category == "留守")
        #expect(r.demand.state == .collected)
        #expect(r.timer?.dueAt == t0.addingTimeInterval(7 * 86_400))
        #expect(r.timer?.kind == .demandStep)
    }

    @Test func fullLifeCycleWithEscalationUnderAnInjectedClock() throws {
        let registered = DemandPolicy.register(id: 5, unitID: "g1", text: "需要暑托班 #留守", by: "m-g1", settings: settings, now: t0)
        let staleTimer = try #require(registered.timer)
        let published = try DemandPolicy.apply(.publish(to: "c1"), to: registered.demand, settings: settings, now: t0.addingTimeInterval(3_600))
        #expect(published.demand.state == .published && published.demand.holderUnitID == "c1")
        let step1 = try #require(published.timer)
        #expect(step1.dueAt == t0.addingTimeInterval(3_600 + 3 * 86_400))

        // The timer set while it was collected no longer applies.
        let stale = DemandPolicy.escalate(published.demand, timer: staleTimer, org: registryOrg, settings: settings, language: .zh, now: staleTimer.dueAt)
        #expect(stale.notices.isEmpty && stale.next == nil && !stale.becameOverdue)

        // Published and unclaimed for 3 days: the community's supervisors (the town) and the community itself are told.
        let first = DemandPolicy.escalate(published.demand, timer: step1, org: registryOrg, settings: settings, language: .zh, now: step1.dueAt)
        #expect(Set(first.notices.map(\.unitID)) == ["t1", "c1"])
        #expect(first.becameOverdue)
        #expect(first.notices[0].text.contains("D-5") && first.notices[0].text.contains("已发布"))
        let step2 = try #require(first.next)
        #expect(step2.dueAt == t0.addingTimeInterval(3_600 + 6 * 86_400))
        let second = DemandPolicy.escalate(published.demand, timer: step2, org: registryOrg, settings: settings, language: .zh, now: step2.dueAt)
        #expect(second.notices.map(\.unitID) == ["d"])
        #expect(second.next == nil, "the chain above c1 is t1, d: it ends there")
        #expect(!second.becameOverdue)

        let claimed = try DemandPolicy.apply(.claim(memberID: "m-c1", unitID: "c1"), to: published.demand, settings: settings, now: step2.dueAt)
        #expect(claimed.demand.state == .claimed && claimed.demand.version == 2)
        #expect(claimed.timer?.dueAt == step2.dueAt.addingTimeInterval(2 * 86_400))
        let progress = try DemandPolicy.apply(.progress("已联系志愿者"), to: claimed.demand, settings: settings, now: step2.dueAt.addingTimeInterval(60))
        #expect(progress.demand.state == .inProgress && progress.demand.note == "已联系志愿者")
        let resolved = try DemandPolicy.apply(.resolve("已开班"), to: progress.demand, settings: settings, now: step2.dueAt.addingTimeInterval(120))
        #expect(resolved.demand.state == .resolved && resolved.timer == nil)
        #expect(throws: Refusal.self) { try DemandPolicy.apply(.progress("x"), to: resolved.demand, settings: settings, now: t0) }
    }

    @Test func transitionsOutOfOrderAreRefused() throws {
        let d = DemandPolicy.register(id: 1, unitID: "g1", text: "x", by: "m-g1", settings: settings, now: t0).demand
        #expect(throws: Refusal.self) { try DemandPolicy.apply(.claim(memberID: "m-c1", unitID: "c1"), to: d, settings: settings, now: t0) }
        #expect(throws: Refusal.self) { try DemandPolicy.apply(.progress("x"), to: d, settings: settings, now: t0) }
        #expect(throws: Refusal.self) { try DemandPolicy.apply(.close(reason: " "), to: d, settings: settings, now: t0) }
        let closed = try DemandPolicy.apply(.close(reason: "不属于团组织职责"), to: d, settings: settings, now: t0)
        #expect(closed.demand.state == .closed && closed.timer == nil)
    }
}

@Suite struct RegistryScopeTests {
    @Test func siblingGridRefusedParentAllowedOwnAllowed() throws {
        let g1 = try #require(registryOrg.member("m-g1"))
        let c1 = try #require(registryOrg.member("m-c1"))
        let t2 = try #require(registryOrg.member("m-t2"))
        #expect(RegistryScope.allows(g1, unitID: "g1", org: registryOrg))
        #expect(!RegistryScope.allows(g1, unitID: "g2", org: registryOrg))
        #expect(!RegistryScope.allows(g1, unitID: "c1", org: registryOrg))
        #expect(RegistryScope.allows(c1, unitID: "g2", org: registryOrg))
        #expect(!RegistryScope.allows(t2, unitID: "g1", org: registryOrg))
        #expect(throws: Refusal.self) { try RegistryScope.check(g1, unitID: "g2", org: registryOrg) }
    }

    @Test func monthWords() {
        // One parser for every month a user types (/纪要, /查询 纪要, /查询 考核, the dashboard, the CLI).
        let now = Date(timeIntervalSince1970: 1_796_126_893)  // 2026-12-01
        let zone = TimeZone(identifier: "Asia/Shanghai")!
        func month(_ word: String) -> String? { DeliberationMonth.parse(word, now: now, timeZone: zone)?.description }
        #expect(month("2026-11") == "2026-11")
        #expect(month("202611") == "2026-11", "/查询 纪要 202611 used to be read as a unit name")
        #expect(month("2026/11") == "2026-11")
        #expect(month("2026年3月") == "2026-03")
        #expect(month("11月") == "2026-11")
        #expect(month("3") == "2026-03")
        #expect(month("g1") == nil)
        #expect(month("13") == nil)
        #expect(month("已发布") == nil)
    }
}

@Suite struct RegistryPrivacyTests {
    let people = [
        YouthRecord(gridID: "g1", name: "李小明", ageBand: .teen, status: .student, inDifficulty: true, category: "留守", contact: "m-g1"),
        YouthRecord(gridID: "g1", name: "王小红", ageBand: .child, status: .student, inDifficulty: false, category: "", contact: "m-g1"),
        YouthRecord(gridID: "g1", name: "赵一诺", ageBand: .teen, status: .seeking, inDifficulty: true, category: "残疾", contact: "m-g1"),
        YouthRecord(gridID: "g1", name: "钱浩然", ageBand: .teen, status: .student, inDifficulty: true, category: "留守", contact: "m-g1"),
    ]

    @Test func youthAnswerHasCountsAndNoNameOrContact() {
        var counts = YouthCounts()
        for p in people { counts.add(p) }
        for language in [Language.zh, .en] {
            let text = RegistryText.youth(unitName: "第1网格", counts: counts, grids: 1, minimum: 3, link: nil, language: language)
            for p in people {
                #expect(!text.contains(p.name))
                #expect(!text.contains(p.contact))
            }
            #expect(text.contains("4"))
            #expect(text.contains("<3"), "1 or 2 are shown as <3")
            #expect(text.contains("14-17 *") && !text.contains("14-17 3"), "issue 11: total 4 minus a shown 3 would give the hidden 1")
        }
    }

    @Test func demandListShowsIdsAndCategoriesNotTheText() {
        var demand = Demand(id: 7, unitID: "g1", text: "李小明家需要帮扶", category: "困难家庭", createdAt: Date(timeIntervalSince1970: 0), createdBy: "m-g1")
        demand.state = .published
        let text = RegistryText.demands(unitName: "第1网格", demands: [demand], state: nil, now: Date(timeIntervalSince1970: 86_400), link: nil, language: .zh)
        #expect(text.contains("D-7") && text.contains("困难家庭"))
        #expect(!text.contains("李小明"))
    }

    @Test func smallCountsAreSuppressed() {
        #expect(RegistryText.count(0, minimum: 3) == "0")
        #expect(RegistryText.count(2, minimum: 3) == "<3")
        #expect(RegistryText.count(3, minimum: 3) == "3")
    }
}

@Suite struct AssessmentTests {
    let base = Date(timeIntervalSince1970: 1_793_500_000)

    func event(_ kind: EventKind, _ task: Int?, _ unit: String, _ member: String? = nil, _ data: [String: String] = [:]) -> EventRecord {
        EventRecord(at: base, kind: kind, taskID: task, unitID: unit, memberID: member, data: data)
    }

    var log: [EventRecord] {
        [
            event(.taskCreated, 1, "c1", "m-c1"),
            event(.targetAssigned, 1, "g1", nil, ["kind": "dispatch"]),
            event(.targetAssigned, 1, "g2", nil, ["kind": "dispatch"]),
            event(.taskAck, 1, "g1", "m-g1", ["late": "0", "seconds": "60"]),
            event(.taskBreach, 1, "g2", nil, ["step": "1"]),
            event(.taskBreach, 1, "g2", nil, ["step": "2"]),
            event(.taskAck, 1, "g2", "m-g2", ["late": "1", "seconds": "900"]),
            event(.targetAssigned, 2, "g1", nil, ["kind": "dispatch"]),
            event(.targetAssigned, 2, "g2", nil, ["kind": "dispatch"]),
            event(.taskAck, 2, "g1", "m-g1", ["late": "0", "seconds": "120"]),
            event(.taskBreach, 2, "g2", nil, ["step": "1"]),
            event(.targetAssigned, 3, "g1", nil, ["kind": "dispatch"]),
            event(.taskAck, 3, "g1", "m-g1", ["late": "0", "seconds": "300"]),
            event(.reportCreated, 4, "g1", "m-g1"),
            event(.targetAssigned, 4, "c1", nil, ["kind": "report"]),
            event(.reportClaimed, 4, "c1", "m-c1", ["late": "0", "seconds": "200"]),
            event(.demandCreated, nil, "g1", "m-g1", ["demand": "1"]),
            event(.demandCreated, nil, "g1", "m-g1", ["demand": "2"]),
            event(.demandResolved, nil, "g1", "m-g1", ["demand": "1"]),
            event(.demandOverdue, nil, "g1", nil, ["demand": "2"]),
            event(.demandOverdue, nil, "g1", nil, ["demand": "2"]),
            // Outside the community's subtree: ignored.
            event(.targetAssigned, 9, "t2", nil, ["kind": "dispatch"]),
            event(.taskAck, 9, "t2", "m-t2", ["late": "0", "seconds": "5"]),
        ]
    }

    @Test func figuresMatchTheHandCount() throws {
        let report = Assessment.compute(events: log, org: registryOrg, scopeUnitID: "c1", minutesUnitIDs: ["g1"], month: "2026-11", settings: .init())
        #expect(Set(report.units.map(\.unitID)) == ["c1", "g1", "g2"])
        let g1 = try #require(report.unit("g1"))
        #expect(g1.tasksReceived == 3 && g1.acknowledged == 3 && g1.acknowledgedOnTime == 3)
        #expect(g1.onTimeShare == 1.0)
        #expect(g1.medianAckSeconds == 120)
        #expect(g1.p90AckSeconds == 300)
        #expect(g1.breaches == 0)
        #expect(g1.minutesHeld)
        #expect(g1.demandsCollected == 2 && g1.demandsResolved == 1 && g1.demandsOverdue == 1)
        #expect(g1.grade == .yellow, "an overdue demand keeps it from green")
        let g2 = try #require(report.unit("g2"))
        #expect(g2.tasksReceived == 2 && g2.acknowledged == 1 && g2.acknowledgedOnTime == 0)
        #expect(g2.onTimeShare == 0)
        #expect(g2.medianAckSeconds == 900 && g2.p90AckSeconds == 900)
        #expect(g2.breaches == 2, "two tasks, the second step of task 1 is not a second breach")
        #expect(!g2.minutesHeld)
        #expect(g2.grade == .red)
        let c1 = try #require(report.unit("c1"))
        #expect(c1.tasksReceived == 0 && c1.reportsReceived == 1 && c1.reportsClaimed == 1 && c1.reportsClaimedOnTime == 1)
        #expect(c1.grade == .green)
        #expect(report.ranking["grid"] == ["g1", "g2"])
        #expect(report.unitCandidates["grid"] == [])
        #expect(report.cadres.map(\.memberID) == ["m-g1", "m-c1", "m-g2"])
        #expect(report.cadres[0].acknowledgements == 3 && report.cadres[0].resolutions == 1 && report.cadres[0].score == 4)
        #expect(report.cadreCandidates == ["m-g1", "m-c1"])
    }

    @Test func withoutTheOverdueDemandTheGridIsGreenAndACandidate() {
        let events = log.filter { $0.kind != .demandOverdue }
        let report = Assessment.compute(events: events, org: registryOrg, scopeUnitID: "c1", minutesUnitIDs: ["g1"], month: "2026-11", settings: .init())
        #expect(report.unit("g1")?.grade == .green)
        #expect(report.unitCandidates["grid"] == ["g1"])
        let noMinutes = Assessment.compute(events: events, org: registryOrg, scopeUnitID: "c1", minutesUnitIDs: [], month: "2026-11", settings: .init())
        #expect(noMinutes.unit("g1")?.grade == .yellow, "a grid without minutes is at best yellow")
    }

    @Test func percentiles() {
        #expect(Assessment.median([1, 2, 3, 4]) == 2.5)
        #expect(Assessment.nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9)
        #expect(Assessment.nearestRank([], 0.9) == nil)
    }

    @Test func renderingsCarryTheFiguresAndTheRules() {
        let report = Assessment.compute(events: log, org: registryOrg, scopeUnitID: "c1", minutesUnitIDs: ["g1"], month: "2026-11", settings: .init())
        let md = report.render(.md, org: registryOrg, language: .zh)
        #expect(md.contains("| 第1网格 | 网格 | 3 | 100% | 2.0m | 5.0m | 0 |"))
        #expect(md.contains("评级规则") && md.contains("排名规则") && md.contains("最美网格团干部候选：干部g1、干部c1"))
        let csv = report.render(.csv, org: registryOrg, language: .zh)
        #expect(csv.contains("g2,第2网格,grid,2,1,0,0.0000,900.0,900.0,2,0,0,0,no,0,0,0,red,2,no"))
        let html = report.render(.html, org: registryOrg, language: .en)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<tr class=\"red\">"))
        let chat = report.chat(org: registryOrg, language: .zh, link: nil)
        #expect(chat.contains("红色预警：第2网格"))
    }

    @Test func generatedMonthIsDeterministic() {
        let start = Date(timeIntervalSince1970: 1_793_500_000)
        let a = EventGenerator.month(org: registryOrg, start: start, tasks: 200, seed: 1)
        let b = EventGenerator.month(org: registryOrg, start: start, tasks: 200, seed: 1)
        #expect(a == b)
        #expect(a.contains { $0.kind == .taskAck })
    }
}
