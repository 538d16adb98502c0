import Foundation
import LeagueCore
import Testing

/// district d → towns t1, t2 → communities c1 (t1), c2 (t2) → grids g1, g2 (c1), g3 (c2).
/// Unit c2 names explicit supervisors sitting in the district.
func policyOrg() -> OrgTree {
    func unit(_ id: String, _ tier: String, _ parent: String?, admin: Bool = true, supervisors: [String]? = nil) -> OrgUnit {
        OrgUnit(
            id: id, name: "U-\(id)", tier: tier, parentID: parent, group: GroupBinding(platform: "generic", chat: "chat-\(id)"),
            members: [Member(id: "m-\(id)", name: "M-\(id)", roles: admin ? [.admin, .cadre] : [.cadre], ids: ["generic": "u-\(id)"], unitID: id)],
            supervisorIDs: supervisors)
    }
    return OrgTree(units: [
        unit("d", "district", nil), unit("t1", "town", "d"), unit("t2", "town", "d"),
        unit("c1", "community", "t1"), unit("c2", "community", "t2", supervisors: ["m-d"]),
        unit("g1", "grid", "c1", admin: false), unit("g2", "grid", "c1", admin: false), unit("g3", "grid", "c2", admin: false),
    ])
}

struct EscalationPolicyTests {
    let org = policyOrg()
    let settings = TaskSettings(routineSeconds: 600, urgentSeconds: 180, remindAt: 0.5, language: .zh, timeZone: TimeZone(identifier: "UTC")!)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let hint: (String) -> String = { _ in "回复收到" }

    func dispatchToGrids(urgent: Bool) throws -> TaskPolicy.Creation {
        let d = try #require(org.unit("d"))
        let targets = try TaskPolicy.resolveTargets(["全体网格"], from: d, org: org)
        return TaskPolicy.dispatch(
            id: 7, text: "上报青年人数", urgent: urgent, targets: targets, issuer: d.members[0], issuerUnit: d,
            org: org, settings: settings, ackHint: hint, now: t0)
    }

    @Test func targetsResolveWithinTheSubtreeOnly() throws {
        let t1 = try #require(org.unit("t1"))
        #expect(try TaskPolicy.resolveTargets([], from: t1, org: org).map(\.id) == ["c1"])
        #expect(try TaskPolicy.resolveTargets(["全体网格"], from: t1, org: org).map(\.id) == ["g1", "g2"])
        #expect(try TaskPolicy.resolveTargets(["U-g2", "g1", "g2"], from: t1, org: org).map(\.id) == ["g2", "g1"])
        #expect(throws: Refusal.self) { try TaskPolicy.resolveTargets(["g3"], from: t1, org: org) }
        #expect(throws: Refusal.self) { try TaskPolicy.resolveTargets(["t1"], from: t1, org: org) }
        #expect(throws: Refusal.self) { try TaskPolicy.resolveTargets(["nowhere"], from: t1, org: org) }
        let g1 = try #require(org.unit("g1"))
        #expect(throws: Refusal.self) { try TaskPolicy.resolveTargets([], from: g1, org: org) }
    }

    @Test func dispatchNoticesEveryTargetAndSetsTheReminderTimer() throws {
        let creation = try dispatchToGrids(urgent: true)
        #expect(creation.targets.map(\.unitID) == ["g1", "g2", "g3"])
        #expect(creation.notices.map(\.unitID) == ["g1", "g2", "g3"])
        #expect(creation.notices.allSatisfy { $0.priority == .urgent && $0.text.contains("紧急任务 T-7") })
        #expect(creation.notices[0].mentions.map(\.userID) == ["u-g1"])
        #expect(creation.timer == TimerEntry.taskStep(7, step: 0, at: t0.addingTimeInterval(90)))
        #expect(creation.task.deadline == t0.addingTimeInterval(180))
    }

    @Test func reminderGoesOnlyToLateGroups() throws {
        let creation = try dispatchToGrids(urgent: true)
        var targets = creation.targets
        targets[0].acknowledgedAt = t0.addingTimeInterval(30)
        let result = TaskPolicy.escalate(task: creation.task, targets: targets, step: 0, org: org, settings: settings, ackHint: hint, now: t0.addingTimeInterval(90))
        #expect(result.notices.map(\.unitID) == ["g2", "g3"])
        #expect(result.next == TimerEntry.taskStep(7, step: 1, at: t0.addingTimeInterval(180)))
        #expect(result.record?.lateUnitIDs == ["g2", "g3"])
    }

    /// A reminder that fires at or after the deadline (the bot was down, or the clock jumped) does not say
    /// "0 seconds left".
    @Test func aReminderAtTheDeadlineSaysTheDeadlineHasCome() throws {
        let task = try dispatchToGrids(urgent: true).task
        let texts = TaskTexts(settings)
        #expect(texts.reminder(task, left: 90, ackHint: "回复收到").contains("距截止还有1分30秒"))
        let late = texts.reminder(task, left: 0, ackHint: "回复收到")
        #expect(late.contains("已到截止时间") && !late.contains("距截止还有"), "\(late)")
        #expect(
            TaskTexts(TaskSettings(routineSeconds: 600, urgentSeconds: 180, remindAt: 0.5, language: .en, timeZone: settings.timeZone)).reminder(task, left: 0, ackHint: "reply 收到").contains(
                "has come"))
    }

    @Test func breachesToTheSameSupervisorGroupAreCombined() throws {
        let creation = try dispatchToGrids(urgent: false)
        let result = TaskPolicy.escalate(task: creation.task, targets: creation.targets, step: 1, org: org, settings: settings, ackHint: hint, now: t0.addingTimeInterval(600))
        // g1 and g2 share community c1 → one message; g3's supervisor unit is c2.
        #expect(result.notices.map(\.unitID) == ["c1", "c2"])
        let c1 = result.notices[0]
        #expect(c1.text.contains("U-g1") && c1.text.contains("U-g2") && c1.text.contains("2个群"))
        #expect(c1.mentions.map(\.memberID) == ["m-c1"])
        #expect(result.targets.map(\.toldUnitIDs) == [["c1"], ["c1"], ["c2"]])
        #expect(result.next == TimerEntry.taskStep(7, step: 2, at: t0.addingTimeInterval(1200)))
    }

    @Test func explicitSupervisorsChangeWhereEscalationGoes() {
        // c2's supervisors are the district's admin, so its chain skips its town.
        #expect(org.escalationChain(of: "c2").map(\.id) == ["d"])
        #expect(org.escalationChain(of: "g3").map(\.id) == ["c2", "d"])
        #expect(org.escalationChain(of: "g1").map(\.id) == ["c1", "t1", "d"])
        #expect(org.supervisors(of: "c2").map(\.id) == ["m-d"])
    }

    @Test func escalationClimbsOneTierPerPeriodAndStopsAtTheRoot() throws {
        let creation = try dispatchToGrids(urgent: false)
        var targets = creation.targets
        var told: [[String]] = []
        var step = 1
        var next: TimerEntry? = .taskStep(7, step: 1, at: t0)
        while let timer = next, step < 10 {
            let result = TaskPolicy.escalate(task: creation.task, targets: targets, step: timer.step, org: org, settings: settings, ackHint: hint, now: timer.dueAt)
            told.append(result.notices.map(\.unitID))
            targets = result.targets
            next = result.next
            step += 1
        }
        #expect(told == [["c1", "c2"], ["t1", "d"], ["d"]])
        #expect(targets[0].toldUnitIDs == ["c1", "t1", "d"])
    }

    @Test func nothingFiresForClosedOrAcknowledgedTasks() throws {
        var creation = try dispatchToGrids(urgent: false)
        let acked = creation.targets.map { target -> TaskTarget in
            var target = target
            target.acknowledgedAt = t0
            return target
        }
        let none = TaskPolicy.escalate(task: creation.task, targets: acked, step: 1, org: org, settings: settings, ackHint: hint, now: t0.addingTimeInterval(600))
        #expect(none.notices.isEmpty && none.next == nil && none.record == nil)
        creation.task.status = .cancelled
        let cancelled = TaskPolicy.escalate(task: creation.task, targets: creation.targets, step: 1, org: org, settings: settings, ackHint: hint, now: t0.addingTimeInterval(600))
        #expect(cancelled.notices.isEmpty && cancelled.next == nil)
    }

    @Test func lateAcknowledgementTellsTheSupervisorsWhoWereTold() throws {
        let creation = try dispatchToGrids(urgent: true)
        var target = creation.targets[0]
        target.toldUnitIDs = ["c1", "t1"]
        let member = try #require(org.member("m-g1"))
        let onTime = TaskPolicy.acknowledge(task: creation.task, target: creation.targets[0], by: member, org: org, settings: settings, now: t0.addingTimeInterval(179))
        #expect(!onTime.late && onTime.notices.isEmpty)
        let late = TaskPolicy.acknowledge(task: creation.task, target: target, by: member, org: org, settings: settings, now: t0.addingTimeInterval(400))
        #expect(late.late)
        #expect(late.notices.map(\.unitID) == ["c1", "t1"])
        #expect(late.target.acknowledgedBy == "m-g1")
    }

    @Test func reportGoesToTheParentAndRefusesAtTheRoot() throws {
        let g1 = try #require(org.unit("g1"))
        let creation = try TaskPolicy.report(id: 3, text: "独居老人需要帮助", urgent: true, issuer: g1.members[0], issuerUnit: g1, org: org, settings: settings, now: t0)
        #expect(creation.notices.map(\.unitID) == ["c1"])
        #expect(creation.task.kind == .report)
        let d = try #require(org.unit("d"))
        #expect(throws: Refusal.self) { try TaskPolicy.report(id: 4, text: "x", urgent: false, issuer: d.members[0], issuerUnit: d, org: org, settings: settings, now: t0) }
    }

    @Test func rollCallRollsUpLargeTreesByTier() throws {
        let creation = try dispatchToGrids(urgent: false)
        let text = TaskTexts(settings).rollCall(task: creation.task, targets: creation.targets, steps: [], org: org, now: t0)
        #expect(text.contains("已确认 0/3"))
        #expect(text.contains("未确认：U-g1、U-g2、U-g3"))
    }

    @Test func rateWindowNeverExceedsTwentyAMinute() {
        var window = RateWindow(perMinute: 20, perSecond: nil)
        var now = t0
        var sent: [Date] = []
        for _ in 0..<65 {
            let slot = window.nextSlot(at: now)
            now = max(now, slot)
            window.record(at: now)
            sent.append(now)
            now = now.addingTimeInterval(0.5)
        }
        for (index, time) in sent.enumerated() {
            let inWindow = sent[index...].prefix { $0 < time.addingTimeInterval(60) }.count
            #expect(inWindow <= 20)
        }
        var paused = RateWindow(perMinute: nil, perSecond: 5)
        paused.pause(until: t0.addingTimeInterval(30))
        #expect(paused.nextSlot(at: t0) == t0.addingTimeInterval(30))
    }

    @Test func durationsParse() {
        #expect(DurationText.seconds("90s") == 90)
        #expect(DurationText.seconds("3m") == 180)
        #expect(DurationText.seconds("1h30m") == 5400)
        #expect(DurationText.seconds("500ms") == 0.5)
        #expect(DurationText.seconds("10") == 10)
        #expect(DurationText.seconds("ten minutes") == nil)
        #expect(DurationText.seconds("3x") == nil)
        #expect(DurationText.seconds("") == nil)
    }
}

/// Issue 10, point 4: after downtime, overdue steps collapse; the missing-minutes summary survives midnight.
extension EscalationPolicyTests {
    func creation() throws -> TaskPolicy.Creation {
        let d = try #require(org.unit("d"))
        let targets = try TaskPolicy.resolveTargets(["g1", "c2"], from: d, org: org)
        return TaskPolicy.dispatch(
            id: 9, text: "上报青年人数", urgent: true, targets: targets, issuer: d.members[0], issuerUnit: d,
            org: org, settings: settings, ackHint: hint, now: t0)
    }

    @Test func afterDowntimeOverdueStepsOfATaskCollapseIntoOneNoticePerGroup() throws {
        let creation = try creation()
        // Down from before the reminder (90 s) until after step 3 (540 s).
        let result = TaskPolicy.catchUp(
            task: creation.task, targets: creation.targets, step: 0, org: org, settings: settings,
            ackHint: hint, now: t0.addingTimeInterval(600))
        let groups = result.notices.map(\.unitID)
        #expect(Set(groups).count == groups.count, "one notice per group: \(groups)")
        // The late groups get their reminder; g1's chain is c1, t1, d and c2's (supervised from the
        // district) reaches d at once: d is told about both in one notice, not one per step.
        #expect(Set(groups) == ["g1", "c2", "c1", "t1", "d"])
        let toDistrict = try #require(result.notices.first { $0.unitID == "d" })
        #expect(toDistrict.text.contains("U-g1") && toDistrict.text.contains("U-c2"))
        #expect(result.records.map(\.step) == [0, 1, 2, 3])
        #expect(result.next == nil, "the root has been told")
    }

    @Test func onTimeStepsStillFireOneAtATime() throws {
        let creation = try creation()
        let reminder = TaskPolicy.catchUp(
            task: creation.task, targets: creation.targets, step: 0, org: org, settings: settings,
            ackHint: hint, now: t0.addingTimeInterval(90))
        #expect(reminder.notices.map(\.key).allSatisfy { $0.contains(":step:0:") })
        #expect(reminder.records.map(\.step) == [0])
        #expect(reminder.next == TimerEntry.taskStep(9, step: 1, at: t0.addingTimeInterval(180)))
    }

    @Test func theMissingMinutesSummaryIsRelevantAfterMidnightButNotForever() throws {
        let deliberation = DeliberationSettings()
        let month = DeliberationMonth(containing: t0, timeZone: deliberation.timeZone)
        let due = DeliberationSchedule.day(of: month, settings: deliberation).instant(.due)
        #expect(DeliberationSchedule.isRelevant(.due, of: month, at: due.addingTimeInterval(3600), settings: deliberation))
        #expect(!DeliberationSchedule.isRelevant(.due, of: month, at: due.addingTimeInterval(8 * 86_400), settings: deliberation))
        #expect(
            !DeliberationSchedule.isRelevant(
                .day, of: month, at: DeliberationSchedule.day(of: month, settings: deliberation).instant(.day).addingTimeInterval(86_400),
                settings: deliberation), "a day reminder missed by a day is still dropped")
    }
}
