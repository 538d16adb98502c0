import Foundation
import LeagueConfig
import LeagueCore

/// The task loop: /任务, 收到, /上报, /认领, /完成, /撤销, /进度 and the escalation timer.
enum TaskFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
        commands["task"] = dispatch
        commands["ack"] = acknowledge
        commands["report"] = report
        commands["claim"] = claim
        commands["done"] = done
        commands["cancel"] = cancel
        commands["status"] = status
        timers[.taskStep] = escalate
    }

    /// `/任务 [紧急] [@目标 …] 内容`
    static func dispatch(_ c: CommandContext) throws {
        let member = try c.requireMember()
        let targets = try TaskPolicy.resolveTargets(c.command.targets, from: c.unit, org: c.org)
        let urgent = c.command.flags.contains("urgent")
        let id = try c.tx.nextTaskID()
        let creation = TaskPolicy.dispatch(
            id: id, text: c.command.text, urgent: urgent, targets: targets, issuer: member, issuerUnit: c.unit,
            org: c.org, settings: c.settings, ackHint: c.engine.ackHint, now: c.now
        )
        try save(creation, c)
        let task = creation.task
        var text = TaskTexts(c.settings).dispatched(task, groups: creation.targets.count, unreachable: creation.unreachable.map(\.name))
        if let note = try deliveryNote(for: creation.notices, c) { text += note }
        try c.reply(text, priority: task.priority)
    }

    /// `/上报 [紧急] 内容`
    static func report(_ c: CommandContext) throws {
        let member = try c.requireMember()
        let urgent = c.command.flags.contains("urgent")
        let creation = try TaskPolicy.report(
            id: try c.tx.nextTaskID(), text: c.command.text, urgent: urgent, issuer: member, issuerUnit: c.unit,
            org: c.org, settings: c.settings, now: c.now
        )
        guard let target = creation.targets.first, let parent = c.org.unit(target.unitID) else {
            throw Refusal(zh: "上级单位没有绑定群，无法上报。", en: "The unit above has no group bound, so the report cannot be delivered.")
        }
        try save(creation, c)
        let task = creation.task
        try c.reply(TaskTexts(c.settings).reported(task, to: parent.name), priority: task.priority)
    }

    static func save(_ creation: TaskPolicy.Creation, _ c: CommandContext) throws {
        let task = creation.task
        try c.tx.insert(task)
        try c.tx.insert(creation.targets)
        for notice in creation.notices { try c.tx.enqueue(notice, at: c.now) }
        if let timer = creation.timer { try c.tx.schedule(timer) }
        try c.log(
            task.kind == .dispatch ? .taskCreated : .reportCreated, taskID: task.id,
            data: [
                "urgent": task.urgent ? "1" : "0", "targets": String(creation.targets.count), "target_seconds": String(Int(task.targetSeconds)),
            ])
        for target in creation.targets {
            try c.tx.append(EventRecord(at: c.now, kind: .targetAssigned, taskID: task.id, unitID: target.unitID, data: ["kind": task.kind.rawValue]))
        }
    }

    /// `收到` / `/收到 [T-n]`
    static func acknowledge(_ c: CommandContext) throws {
        let member = try c.requireMember()
        guard member.unitID == c.unit.id else {
            // A guide from the unit above typing 收到 in a lower group does not acknowledge for it.
            if c.command.ref("T") == nil { return }
            throw Refusal(zh: "只有\(c.unit.name)的成员可以代表本群确认。", en: "Only members of \(c.unit.name) can acknowledge for this group.")
        }
        let target: TaskTarget
        if let id = c.command.ref("T") {
            guard let task = try c.tx.task(id) else { throw Refusal.noTask(id) }
            guard let found = try c.tx.targets(ofTask: id).first(where: { $0.unitID == c.unit.id }), task.kind == .dispatch else {
                throw Refusal(zh: "\(task.label) 不是派给本群的任务。", en: "\(task.label) was not sent to this group.")
            }
            guard found.isWaiting else {
                try c.reply(TaskTexts(c.settings).alreadyAcknowledged(task))
                return
            }
            guard task.status == .open else {
                try c.reply(TaskTexts(c.settings).closedNoAcknowledgement(task))
                return
            }
            target = found
        } else {
            guard let found = try c.tx.oldestWaitingTarget(unitID: c.unit.id) else {
                // Plain 收到 with nothing waiting is just chat.
                if c.command.args.isEmpty && !c.record.message.text.contains("/") { return }
                try c.reply(TaskTexts(c.settings).nothingWaiting)
                return
            }
            target = found
        }
        guard let task = try c.tx.task(target.taskID) else { return }
        let ack = TaskPolicy.acknowledge(task: task, target: target, by: member, org: c.org, settings: c.settings, now: c.now)
        try c.tx.update(ack.target)
        for notice in ack.notices { try c.tx.enqueue(notice, at: c.now) }
        try c.log(.taskAck, taskID: task.id, data: ackData(ack, task, c))
    }

    /// The event data of an acknowledgement or a claim: late or not, seconds after the task was created.
    static func ackData(_ ack: TaskPolicy.Acknowledgement, _ task: WorkTask, _ c: CommandContext) -> [String: String] {
        ["late": ack.late ? "1" : "0", "seconds": String(Int(c.now.timeIntervalSince(task.createdAt).rounded()))]
    }

    /// `/认领 T-n`
    static func claim(_ c: CommandContext) throws {
        let member = try c.requireMember()
        guard let id = c.command.ref("T"), var task = try c.tx.task(id) else { throw Refusal.noTask(c.command.ref("T") ?? 0) }
        guard task.kind == .report else {
            throw Refusal(zh: "\(task.label) 是派发任务，请用“收到”确认。", en: "\(task.label) is a dispatched task; acknowledge it with 收到.")
        }
        guard task.status == .open else { throw Refusal(zh: "\(task.label) 已结束。", en: "\(task.label) is closed.") }
        if let by = task.claimedBy {
            throw Refusal(zh: "\(task.label) 已由\(c.org.member(by)?.name ?? by)认领。", en: "\(task.label) was already claimed by \(c.org.member(by)?.name ?? by).")
        }
        guard let target = try c.tx.targets(ofTask: id).first else { return }
        let reach = TaskPolicy.reportReach(target)
        guard reach.contains(member.unitID), member.has(.cadre) || member.has(.admin) else {
            throw Refusal(zh: "\(task.label) 还没有上报到您的单位，不能认领。", en: "\(task.label) has not reached your unit, so you cannot claim it.")
        }
        let ack = TaskPolicy.acknowledge(task: task, target: target, by: member, org: c.org, settings: c.settings, now: c.now)
        try c.tx.update(ack.target)
        task.claimedBy = member.id
        task.claimedUnitID = member.unitID
        task.claimedAt = c.now
        try c.tx.update(task)
        for notice in ack.notices where notice.unitID != c.unit.id { try c.tx.enqueue(notice, at: c.now) }
        try c.tell(
            task.issuerUnitID, key: "task:\(id):claimed",
            text: TaskTexts(c.settings).reportClaimed(task, unitName: c.org.unit(member.unitID)?.name ?? "", memberName: member.name),
            mentions: c.org.member(task.issuerID).map { [$0] } ?? [], priority: task.priority)
        try c.reply(TaskTexts(c.settings).claimed(task))
        try c.log(.reportClaimed, taskID: id, data: ackData(ack, task, c))
    }

    /// `/完成 T-n [说明]`
    static func done(_ c: CommandContext) throws {
        let member = try c.requireMember()
        guard let id = c.command.ref("T"), var task = try c.tx.task(id) else { throw Refusal.noTask(c.command.ref("T") ?? 0) }
        guard task.status == .open else { throw Refusal(zh: "\(task.label) 已结束。", en: "\(task.label) is already closed.") }
        let allowed =
            member.id == task.issuerID || member.id == task.claimedBy || c.org.isAdmin(member, over: task.issuerUnitID)
            || (task.kind == .report && member.unitID == task.claimedUnitID)
        guard allowed else { throw Refusal.notAllowed("完成 \(task.label)（发起人、认领人或上级管理员可以）", "close \(task.label) (its issuer, claimer or an admin above can)") }
        task.status = .done
        task.closedAt = c.now
        task.closedBy = member.id
        task.closeNote = c.command.text.isEmpty ? nil : c.command.text
        try c.tx.update(task)
        if task.kind == .report, task.issuerUnitID != c.unit.id {
            try c.tell(task.issuerUnitID, key: "task:\(id):done", text: TaskTexts(c.settings).reportResolved(task, note: c.command.text), priority: task.priority)
        }
        try c.reply(TaskTexts(c.settings).done(task))
        try c.log(.taskDone, taskID: id, data: ["kind": task.kind.rawValue])
    }

    /// `/撤销 T-n`
    static func cancel(_ c: CommandContext) throws {
        let member = try c.requireMember()
        guard let id = c.command.ref("T"), var task = try c.tx.task(id) else { throw Refusal.noTask(c.command.ref("T") ?? 0) }
        guard task.status == .open else { throw Refusal(zh: "\(task.label) 已结束。", en: "\(task.label) is already closed.") }
        guard member.id == task.issuerID || c.org.isAdmin(member, over: task.issuerUnitID) else {
            throw Refusal.notAllowed("撤销 \(task.label)（发起人或发起单位及以上的管理员可以）", "cancel \(task.label) (its issuer or an admin of the issuing unit or above can)")
        }
        task.status = .cancelled
        task.closedAt = c.now
        task.closedBy = member.id
        try c.tx.update(task)
        for target in try c.tx.targets(ofTask: id) where target.isWaiting {
            try c.tell(target.unitID, key: "task:\(id):cancel:\(target.unitID)", text: TaskTexts(c.settings).cancelledNotice(task), priority: task.priority)
        }
        try c.reply(TaskTexts(c.settings).cancelled(task))
        try c.log(.taskCancelled, taskID: id)
    }

    /// `/进度 [T-n]`
    static func status(_ c: CommandContext) throws {
        if let id = c.command.ref("T") {
            guard let task = try c.tx.task(id) else { throw Refusal.noTask(id) }
            let targets = try c.tx.targets(ofTask: id)
            let member = try c.requireMember()
            let involved =
                c.org.isInSubtree(c.unit.id, of: task.issuerUnitID) || c.org.isInSubtree(task.issuerUnitID, of: member.unitID)
                || targets.contains { c.org.isInSubtree($0.unitID, of: c.unit.id) || $0.unitID == c.unit.id }
                || targets.contains { TaskPolicy.reportReach($0).contains(c.unit.id) }
            guard involved else {
                throw Refusal(zh: "\(task.label) 不在本单位的范围内。", en: "\(task.label) is outside your part of the tree.")
            }
            let text = TaskTexts(c.settings).rollCall(task: task, targets: targets, steps: try c.tx.escalations(ofTask: id), org: c.org, now: c.now)
            try c.reply(text + c.seams.dashboardLine(c, "task/\(id)", []))
            return
        }
        let rows = try c.tx.openTasks(involving: c.unit.id, limit: 20).map { task -> (task: WorkTask, state: TaskTexts.OpenTaskState) in
            let targets = try c.tx.targets(ofTask: task.id)
            if let mine = targets.first(where: { $0.unitID == c.unit.id }) { return (task, mine.isWaiting ? .waitingHere : .acknowledgedHere) }
            if task.kind == .report { return (task, task.claimedBy == nil ? .unclaimed : .claimed) }
            return (task, .acknowledged(targets.filter { !$0.isWaiting }.count, of: targets.count))
        }
        try c.reply(TaskTexts(c.settings).openTasks(rows))
    }

    /// The escalation timer of a task step.
    /// After downtime every overdue step fires now, with one notice per group (`TaskPolicy.catchUp`).
    static func escalate(_ t: TimerContext) throws {
        guard let id = Int(t.timer.subject) else { throw TimerPoison("task-step timer \(t.timer.key): subject \(t.timer.subject) is not a task number") }
        guard let task = try t.tx.task(id) else { throw TimerPoison("task-step timer \(t.timer.key): task T-\(id) does not exist") }
        let targets = try t.tx.targets(ofTask: id)
        let result = TaskPolicy.catchUp(
            task: task, targets: targets, step: t.timer.step, org: t.org, settings: t.config.tasks,
            ackHint: t.engine.ackHint, now: t.now)
        for (old, new) in zip(targets, result.targets) where old != new { try t.tx.update(new) }
        for notice in result.notices { try t.tx.enqueue(notice, at: t.now) }
        for record in result.records {
            t.engine.metrics.escalationStep(record.step)
            try t.tx.insert(record)
            if record.step >= 1 {
                for unitID in record.lateUnitIDs {
                    try t.tx.append(EventRecord(at: t.now, kind: .taskBreach, taskID: id, unitID: unitID, data: ["step": String(record.step)]))
                }
            }
        }
        if let next = result.next { try t.tx.schedule(next) }
    }
}

// MARK: Delivery forecast

extension TaskFeature {
    /// The line for the issuer's reply saying when the last notice should be delivered, or nil when
    /// that is within `OutboxPlanner.forecastThreshold` seconds. Reads the pending outbox in the
    /// command's transaction, so the notices just enqueued are counted.
    static func deliveryNote(for notices: [OutboundMessage], _ c: CommandContext) throws -> String? {
        guard !notices.isEmpty else { return nil }
        // Only the robots these notices go through matter: each robot drains its own queue.
        let robots = Set(notices.map(\.group.robotID))
        let pending = try c.tx.pendingDeliveries(robots: robots)
        let pauses = try c.tx.robotPauses(robots: robots)
        let sent = try c.tx.robotSends(robots: robots, since: c.now.addingTimeInterval(-61))
        let keys = Set(notices.map(\.key))
        guard
            let last = OutboxPlanner.forecast(
                pending: pending, newKeys: keys, adapters: c.engine.adapters, now: c.now,
                pauses: pauses, recentSends: sent)
        else { return nil }
        let wait = last.timeIntervalSince(c.now)
        guard wait > OutboxPlanner.forecastThreshold else { return nil }
        return TaskTexts(c.settings).deliveryNote(wait: wait, by: last.addingTimeInterval(59))  // "by" the minute after
    }
}
