import Foundation

/// The settings the task loop runs on (from leagueops.yaml).
public struct TaskSettings: Sendable, Hashable {
    public var routineSeconds: Double
    public var urgentSeconds: Double
    /// Fraction of the target at which the late group is reminded (0 disables the reminder).
    public var remindAt: Double
    public var language: Language
    public var timeZone: TimeZone

    public init(routineSeconds: Double = 600, urgentSeconds: Double = 180, remindAt: Double = 0.5, language: Language = .zh, timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!) {
        self.routineSeconds = routineSeconds
        self.urgentSeconds = urgentSeconds
        self.remindAt = remindAt
        self.language = language
        self.timeZone = timeZone
    }

    public func targetSeconds(urgent: Bool) -> Double { urgent ? urgentSeconds : routineSeconds }
    var format: TimeFormat { TimeFormat(timeZone: timeZone) }
}

/// The pure task and escalation policy: every function takes the state, the event and the time,
/// and returns the new state plus the messages to send and the timers to set. No I/O.
public enum TaskPolicy {
    /// What creating a task produces.
    public struct Creation: Sendable {
        public var task: WorkTask
        public var targets: [TaskTarget]
        public var notices: [OutboundMessage]
        /// Units targeted that have no group bound (they cannot be reached).
        public var unreachable: [OrgUnit]
        public var timer: TimerEntry?
    }

    // MARK: Targets

    /// Resolves `@` targets of a dispatch within the issuer's subtree.
    /// `全部`/`all` (the default) is every child unit; `全体网格`/`grids` every bottom-tier unit below.
    public static func resolveTargets(_ words: [String], from unit: OrgUnit, org: OrgTree) throws(Refusal) -> [OrgUnit] {
        let words = words.isEmpty ? ["全部"] : words
        var result: [OrgUnit] = []
        var seen: Set<String> = []
        func add(_ units: [OrgUnit]) {
            for unit in units where seen.insert(unit.id).inserted { result.append(unit) }
        }
        for word in words {
            switch word.lowercased() {
            case "全部", "all", "所有", "全体":
                add(org.children(of: unit.id))
            case "全体网格", "grids", "所有网格", "网格":
                add(org.descendants(of: unit.id).filter { org.isBottomTier($0.tier) })
            default:
                guard let target = org.unit(named: word) else {
                    throw Refusal(
                        zh: "找不到单位“\(word)”。请用单位编号或全称，例如 @全部、@全体网格。",
                        en: "No unit called “\(word)”. Use a unit id or its full name, or @all / @grids.")
                }
                guard target.id != unit.id, org.isInSubtree(target.id, of: unit.id) else {
                    throw Refusal(
                        zh: "“\(target.name)”不在本单位的下级范围内，只能向下级派发任务。",
                        en: "“\(target.name)” is not below your unit; tasks go down your own subtree only.")
                }
                add([target])
            }
        }
        if result.isEmpty {
            throw Refusal(zh: "本单位没有下级群可以派发。", en: "Your unit has no groups below it to dispatch to.")
        }
        return result
    }

    // MARK: Dispatch and report

    /// `/任务`: a task down to the target groups.
    public static func dispatch(
        id: Int, text: String, urgent: Bool, targets: [OrgUnit], issuer: Member, issuerUnit: OrgUnit, org: OrgTree, settings: TaskSettings, ackHint: (String) -> String, now: Date
    ) -> Creation {
        let task = WorkTask(
            id: id, kind: .dispatch, urgent: urgent, text: text, issuerID: issuer.id, issuerName: issuer.name,
            issuerUnitID: issuerUnit.id, createdAt: now, targetSeconds: settings.targetSeconds(urgent: urgent)
        )
        let texts = TaskTexts(settings)
        var notices: [OutboundMessage] = []
        var reachable: [TaskTarget] = []
        var unreachable: [OrgUnit] = []
        for unit in targets {
            guard let group = unit.group else {
                unreachable.append(unit)
                continue
            }
            reachable.append(TaskTarget(taskID: id, unitID: unit.id))
            notices.append(
                OutboundMessage(
                    key: "task:\(id):notice:\(unit.id)", unitID: unit.id, group: group,
                    text: texts.notice(task, from: issuerUnit.name, issuer.name, ackHint: ackHint(group.platform)),
                    mentions: mentions(of: unit.members.filter { $0.has(.cadre) || $0.has(.admin) }, platform: group.platform),
                    priority: task.priority
                ))
        }
        return Creation(
            task: task, targets: reachable, notices: notices, unreachable: unreachable,
            timer: reachable.isEmpty ? nil : firstTimer(for: task, settings: settings))
    }

    /// `/上报`: a report up to the parent unit's group, which must claim it.
    public static func report(id: Int, text: String, urgent: Bool, issuer: Member, issuerUnit: OrgUnit, org: OrgTree, settings: TaskSettings, now: Date) throws(Refusal) -> Creation {
        guard let parent = issuerUnit.parentID.flatMap({ org.unit($0) }) else {
            throw Refusal(zh: "本单位已是最上级，无处上报。", en: "Your unit is the top of the tree; there is nobody above to report to.")
        }
        let task = WorkTask(
            id: id, kind: .report, urgent: urgent, text: text, issuerID: issuer.id, issuerName: issuer.name,
            issuerUnitID: issuerUnit.id, createdAt: now, targetSeconds: settings.targetSeconds(urgent: urgent)
        )
        guard let group = parent.group else {
            return Creation(task: task, targets: [], notices: [], unreachable: [parent], timer: nil)
        }
        let notice = OutboundMessage(
            key: "task:\(id):notice:\(parent.id)", unitID: parent.id, group: group,
            text: TaskTexts(settings).notice(task, from: issuerUnit.name, issuer.name, ackHint: ""),
            mentions: mentions(of: parent.members.filter { $0.has(.cadre) || $0.has(.admin) }, platform: group.platform),
            priority: task.priority
        )
        return Creation(
            task: task, targets: [TaskTarget(taskID: id, unitID: parent.id)], notices: [notice],
            unreachable: [], timer: firstTimer(for: task, settings: settings))
    }

    // MARK: Escalation

    /// When step `step` of a task is due: the reminder at `remindAt` of the target, step k ≥ 1 at k targets.
    public static func dueTime(of task: WorkTask, step: Int, settings: TaskSettings) -> Date {
        if step == 0 { return task.createdAt.addingTimeInterval(task.targetSeconds * settings.remindAt) }
        return task.createdAt.addingTimeInterval(task.targetSeconds * Double(step))
    }

    static func firstTimer(for task: WorkTask, settings: TaskSettings) -> TimerEntry {
        let step = settings.remindAt > 0 && settings.remindAt < 1 ? 0 : 1
        return .taskStep(task.id, step: step, at: dueTime(of: task, step: step, settings: settings))
    }

    /// What firing one escalation step produces.
    public struct Escalation: Sendable {
        public var targets: [TaskTarget]
        public var notices: [OutboundMessage]
        public var record: EscalationRecord?
        public var next: TimerEntry?
    }

    /// Fires step `step` of a task at `now`: reminds late groups (step 0), tells their supervisors
    /// (step 1), then one tier further up per target period until the root has been told.
    /// Breaches of one step that go to the same group are combined into one message.
    public static func escalate(task: WorkTask, targets: [TaskTarget], step: Int, org: OrgTree, settings: TaskSettings, ackHint: (String) -> String, now: Date) -> Escalation {
        var targets = targets
        let waiting = targets.indices.filter { targets[$0].isWaiting }
        guard task.status == .open, !waiting.isEmpty else { return Escalation(targets: targets, notices: [], record: nil, next: nil) }
        let texts = TaskTexts(settings)
        var notices: [OutboundMessage] = []
        var notified: [String] = []
        var late: [String] = []

        if step == 0 {
            for index in waiting {
                guard let unit = org.unit(targets[index].unitID), let group = unit.group else { continue }
                let text = texts.reminder(task, left: max(0, task.deadline.timeIntervalSince(now)), ackHint: ackHint(group.platform))
                notices.append(
                    OutboundMessage(
                        key: "task:\(task.id):step:0:\(unit.id)", unitID: unit.id, group: group, text: text,
                        mentions: mentions(of: unit.members.filter { $0.has(.cadre) || $0.has(.admin) }, platform: group.platform),
                        priority: task.priority
                    ))
                notified.append(unit.id)
                late.append(unit.id)
            }
            let next = TimerEntry.taskStep(task.id, step: 1, at: dueTime(of: task, step: 1, settings: settings))
            return Escalation(
                targets: targets, notices: notices,
                record: EscalationRecord(taskID: task.id, step: 0, at: now, notifiedUnitIDs: notified, lateUnitIDs: late),
                next: next)
        }

        // Step k ≥ 1: the k-th unit of each late target's escalation chain.
        var byNotified: [(unit: OrgUnit, late: [OrgUnit], mention: [Member])] = []
        var hasFurther = false
        for index in waiting {
            let targetID = targets[index].unitID
            guard let lateUnit = org.unit(targetID) else { continue }
            let chain = org.escalationChain(of: targetID)
            if chain.count > step { hasFurther = true }
            guard chain.count >= step else { continue }
            let tell = chain[step - 1]
            let responsible = step == 1 ? org.supervisors(of: targetID) : org.supervisors(of: chain[step - 2].id)
            late.append(targetID)
            if !targets[index].toldUnitIDs.contains(tell.id) { targets[index].toldUnitIDs.append(tell.id) }
            if let position = byNotified.firstIndex(where: { $0.unit.id == tell.id }) {
                byNotified[position].late.append(lateUnit)
                for member in responsible where !byNotified[position].mention.contains(member) {
                    byNotified[position].mention.append(member)
                }
            } else {
                byNotified.append((tell, [lateUnit], responsible))
            }
        }
        let elapsed = now.timeIntervalSince(task.createdAt)
        let issuerUnitName = org.unit(task.issuerUnitID)?.name ?? task.issuerUnitID
        for entry in byNotified {
            guard let group = entry.unit.group else { continue }
            notified.append(entry.unit.id)
            let text = texts.breach(task, elapsed: elapsed, late: entry.late.map(\.name), issuerUnitName: issuerUnitName)
            notices.append(
                OutboundMessage(
                    key: "task:\(task.id):step:\(step):\(entry.unit.id)", unitID: entry.unit.id, group: group, text: text,
                    mentions: mentions(of: entry.mention, platform: group.platform), priority: task.priority
                ))
        }
        let next = hasFurther ? TimerEntry.taskStep(task.id, step: step + 1, at: dueTime(of: task, step: step + 1, settings: settings)) : nil
        let record = EscalationRecord(taskID: task.id, step: step, at: now, notifiedUnitIDs: notified, lateUnitIDs: late)
        return Escalation(targets: targets, notices: notices, record: record, next: next)
    }

    /// What firing every overdue step of a task at once produces.
    public struct CatchUp: Sendable {
        public var targets: [TaskTarget]
        /// At most one notice per group: notices of several steps to one group are merged.
        public var notices: [OutboundMessage]
        public var records: [EscalationRecord]
        public var next: TimerEntry?
    }

    /// Fires step `step` and every later step that is also due at `now` (after downtime several
    /// steps of a task come due together) in one go: the notices of all those steps are merged so
    /// that each group gets one notice for the task (the late group its reminder, each supervising
    /// group one breach notice naming every late group it is told about). `next` is the first step
    /// not due yet.
    public static func catchUp(
        task: WorkTask, targets: [TaskTarget], step: Int, org: OrgTree, settings: TaskSettings,
        ackHint: (String) -> String, now: Date
    ) -> CatchUp {
        var step = step
        var result = CatchUp(targets: targets, notices: [], records: [], next: nil)
        var byGroup: [String: Int] = [:]
        while true {
            let escalation = escalate(task: task, targets: result.targets, step: step, org: org, settings: settings, ackHint: ackHint, now: now)
            result.targets = escalation.targets
            if let record = escalation.record { result.records.append(record) }
            for notice in escalation.notices {
                if let index = byGroup[notice.unitID] {
                    var merged = result.notices[index]
                    merged.text += "\n" + notice.text
                    for mention in notice.mentions where !merged.mentions.contains(mention) { merged.mentions.append(mention) }
                    result.notices[index] = merged
                } else {
                    byGroup[notice.unitID] = result.notices.count
                    result.notices.append(notice)
                }
            }
            result.next = escalation.next
            guard let next = escalation.next, next.dueAt <= now, next.step > step else { break }
            step = next.step
        }
        return result
    }

    // MARK: Acknowledge, claim

    /// What an acknowledgement or claim produces.
    public struct Acknowledgement: Sendable {
        public var target: TaskTarget
        public var late: Bool
        /// To the supervisors who were told it was late.
        public var notices: [OutboundMessage]
    }

    /// A target group acknowledges (`收到`) a dispatched task, or a reached unit claims a report.
    public static func acknowledge(task: WorkTask, target: TaskTarget, by member: Member, org: OrgTree, settings: TaskSettings, now: Date) -> Acknowledgement {
        var target = target
        target.acknowledgedAt = now
        target.acknowledgedBy = member.id
        let late = target.isLate(for: task)
        var notices: [OutboundMessage] = []
        let unitName = org.unit(target.unitID)?.name ?? target.unitID
        for unitID in target.toldUnitIDs {
            guard let unit = org.unit(unitID), let group = unit.group else { continue }
            let text = TaskTexts(settings).lateAcknowledgement(
                task, unitName: unitName, memberName: member.name,
                after: now.timeIntervalSince(task.createdAt))
            notices.append(OutboundMessage(key: "task:\(task.id):late-ack:\(target.unitID):\(unitID)", unitID: unitID, group: group, text: text, priority: task.priority))
        }
        return Acknowledgement(target: target, late: late, notices: notices)
    }

    /// The units a report has reached so far (where it may be claimed).
    public static func reportReach(_ target: TaskTarget) -> [String] {
        [target.unitID] + target.toldUnitIDs
    }

    // MARK: Helpers

    /// The members to @-mention in a group of a platform.
    public static func mentions(of members: [Member], platform: String) -> [Mention] {
        members.map { Mention(memberID: $0.id, name: $0.name, userID: $0.ids[platform], mobile: $0.mobile) }
    }
}
