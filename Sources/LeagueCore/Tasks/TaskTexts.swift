import Foundation

/// Every sentence of the task loop — notices, reminders, breach notices, the roll call — Chinese and
/// English side by side. Pure: values in, text out. `TaskPolicy` decides who is told what and when;
/// this decides how it reads.
public struct TaskTexts: Sendable {
    let lang: Language
    let format: TimeFormat

    public init(_ settings: TaskSettings) {
        lang = settings.language
        format = settings.format
    }

    /// The first notice of a task to a target group, or of a report to the group above. `ackHint`
    /// says how to acknowledge on the group's platform (unused for a report, which is claimed).
    public func notice(_ task: WorkTask, from unitName: String, _ issuerName: String, ackHint: String) -> String {
        let within = DurationText.human(task.targetSeconds, language: lang)
        let deadline = format.clock(task.deadline)
        if task.kind == .report {
            let head = task.urgent ? lang.pick("【紧急上报 \(task.label)】", "[URGENT report \(task.label)]") : lang.pick("【上报 \(task.label)】", "[Report \(task.label)]")
            return lang.pick(
                "\(head)\(unitName) \(issuerName)：\(task.text)\n请在\(within)内（\(deadline)前）发送 /认领 \(task.label) 认领。",
                "\(head) from \(unitName), \(issuerName): \(task.text)\nPlease claim it within \(within) (by \(deadline)): send /claim \(task.label)."
            )
        }
        let head = task.urgent ? lang.pick("【紧急任务 \(task.label)】", "[URGENT task \(task.label)]") : lang.pick("【任务 \(task.label)】", "[Task \(task.label)]")
        return lang.pick(
            "\(head)\(unitName) \(issuerName)：\(task.text)\n请在\(within)内（\(deadline)前）\(ackHint)。",
            "\(head) from \(unitName), \(issuerName): \(task.text)\nPlease acknowledge within \(within) (by \(deadline)): \(ackHint)."
        )
    }

    /// Step 0: the reminder to a group that has not acknowledged, `left` seconds before the deadline.
    public func reminder(_ task: WorkTask, left: Double, ackHint: String) -> String {
        let leftText = DurationText.human(left, language: lang)
        let action = task.kind == .dispatch ? ackHint : lang.pick("发送 /认领 \(task.label) 认领", "send /claim \(task.label)")
        return lang.pick(
            "⏰ 提醒：\(task.kind == .dispatch ? "任务" : "上报") \(task.label)「\(Self.excerpt(task.text))」还未确认，距截止还有\(leftText)（\(format.clock(task.deadline))），请\(action)。",
            "⏰ Reminder: \(task.kind == .dispatch ? "task" : "report") \(task.label) “\(Self.excerpt(task.text))” is not acknowledged yet; \(leftText) left (by \(format.clock(task.deadline))). Please \(action)."
        )
    }

    /// Step ≥ 1: the breach notice to a supervising group, naming the late groups it is told about.
    public func breach(_ task: WorkTask, elapsed: Double, late names: [String], issuerUnitName: String) -> String {
        let elapsedText = DurationText.human(elapsed, language: lang)
        let listed = names.count > 30 ? names.prefix(30).joined(separator: "、") + lang.pick(" 等\(names.count)个", " and \(names.count - 30) more") : names.joined(separator: "、")
        if task.kind == .dispatch {
            return lang.pick(
                "🚨 超时未确认：\(task.urgent ? "紧急" : "")任务 \(task.label)「\(Self.excerpt(task.text))」已过\(elapsedText)（目标\(DurationText.human(task.targetSeconds, language: lang))），以下\(names.count)个群仍未确认：\(listed)。请督促。",
                "🚨 Not acknowledged in time: \(task.urgent ? "urgent " : "")task \(task.label) “\(Self.excerpt(task.text))”, \(elapsedText) since dispatch (target \(DurationText.human(task.targetSeconds, language: lang))). \(names.count) group(s) still silent: \(listed). Please follow up."
            )
        }
        return lang.pick(
            "🚨 上报未认领：\(task.urgent ? "紧急" : "")上报 \(task.label)（来自\(issuerUnitName) \(task.issuerName)）「\(task.text)」已过\(elapsedText)无人认领，现升级至本级。请发送 /认领 \(task.label) 认领。",
            "🚨 Report not claimed: \(task.urgent ? "urgent " : "")report \(task.label) (from \(issuerUnitName), \(task.issuerName)) “\(task.text)” has gone unclaimed for \(elapsedText) and is escalated to you. Send /claim \(task.label) to claim it."
        )
    }

    /// To a group that was told a target was late: it has now acknowledged (or claimed), `after` seconds after dispatch.
    public func lateAcknowledgement(_ task: WorkTask, unitName: String, memberName: String, after: Double) -> String {
        let afterText = DurationText.human(after, language: lang)
        let verb = task.kind == .dispatch ? lang.pick("已确认", "acknowledged") : lang.pick("已被认领", "was claimed")
        return lang.pick(
            "✅ \(task.label)：\(unitName) \(memberName) \(verb)（\(afterText)，超时）。",
            "✅ \(task.label): \(unitName) – \(memberName) \(verb) after \(afterText) (late)."
        )
    }

    /// `/进度 T-n`: who acknowledged, after how long, who is missing, the escalation steps.
    public func rollCall(task: WorkTask, targets: [TaskTarget], steps: [EscalationRecord], org: OrgTree, now: Date) -> String {
        let done = targets.filter { !$0.isWaiting }.sorted { ($0.acknowledgedAt ?? now) < ($1.acknowledgedAt ?? now) }
        let missing = targets.filter(\.isWaiting)
        let statusText: String
        switch task.status {
        case .open: statusText = lang.pick("进行中", "open")
        case .done: statusText = lang.pick("已完成", "done")
        case .cancelled: statusText = lang.pick("已撤销", "cancelled")
        }
        var lines: [String] = []
        let kindText = task.kind == .dispatch ? lang.pick("任务", "Task") : lang.pick("上报", "Report")
        lines.append(lang.pick(
            "📋 \(kindText) \(task.label)\(task.urgent ? "（紧急）" : "")「\(Self.excerpt(task.text, 40))」\(statusText)",
            "📋 \(kindText) \(task.label)\(task.urgent ? " (urgent)" : "") “\(Self.excerpt(task.text, 40))” – \(statusText)"
        ))
        lines.append(lang.pick(
            "发出 \(format.dayAndClock(task.createdAt))，目标 \(DurationText.human(task.targetSeconds, language: lang))（\(format.clock(task.deadline))）",
            "Sent \(format.dayAndClock(task.createdAt)), target \(DurationText.human(task.targetSeconds, language: lang)) (by \(format.clock(task.deadline)))"
        ))
        if task.kind == .report {
            if let claimedAt = task.claimedAt, let by = task.claimedBy {
                let who = org.member(by)?.name ?? by
                lines.append(lang.pick("认领：\(who)，用时\(DurationText.human(claimedAt.timeIntervalSince(task.createdAt), language: lang))",
                                       "Claimed by \(who) after \(DurationText.human(claimedAt.timeIntervalSince(task.createdAt), language: lang))"))
            } else {
                lines.append(lang.pick("尚未认领", "Not claimed yet"))
            }
        } else {
            lines.append(lang.pick("已确认 \(done.count)/\(targets.count)，未确认 \(missing.count)", "Acknowledged \(done.count)/\(targets.count), missing \(missing.count)"))
            let large = targets.count > 30
            if large {
                var tiers: [String: (done: Int, all: Int)] = [:]
                var order: [String] = []
                for target in targets {
                    let tier = org.unit(target.unitID)?.tier ?? "?"
                    if tiers[tier] == nil { order.append(tier) }
                    tiers[tier, default: (0, 0)].all += 1
                    if !target.isWaiting { tiers[tier, default: (0, 0)].done += 1 }
                }
                for tier in order {
                    let value = tiers[tier]!
                    lines.append(lang.pick("  \(Self.tierName(tier, lang))：\(value.done)/\(value.all)", "  \(Self.tierName(tier, lang)): \(value.done)/\(value.all)"))
                }
                let lateCount = done.filter { $0.isLate(for: task) }.count
                if lateCount > 0 { lines.append(lang.pick("  其中超时确认 \(lateCount)", "  of which late: \(lateCount)")) }
            } else {
                for target in done {
                    let name = org.unit(target.unitID)?.name ?? target.unitID
                    let who = target.acknowledgedBy.flatMap({ org.member($0) })?.name ?? ""
                    let after = DurationText.human(target.acknowledgedAt!.timeIntervalSince(task.createdAt), language: lang)
                    let lateMark = target.isLate(for: task) ? lang.pick("（超时）", " (late)") : ""
                    lines.append("  ✅ \(name) \(who) \(after)\(lateMark)")
                }
            }
            if !missing.isEmpty {
                let names = missing.compactMap { org.unit($0.unitID)?.name }
                let shown = names.prefix(50).joined(separator: "、")
                let more = names.count > 50 ? lang.pick(" 等\(names.count)个", " and \(names.count - 50) more") : ""
                lines.append(lang.pick("  ❌ 未确认：\(shown)\(more)", "  ❌ Missing: \(shown)\(more)"))
            }
        }
        for step in steps.sorted(by: { $0.step < $1.step }) {
            let told = step.notifiedUnitIDs.compactMap { org.unit($0)?.name }
            let what = step.step == 0 ? lang.pick("提醒", "reminder") : lang.pick("第\(step.step)级升级", "escalation level \(step.step)")
            lines.append(lang.pick(
                "  ⏱ \(format.clock(step.at)) \(what)：通知 \(told.prefix(10).joined(separator: "、"))\(told.count > 10 ? " 等\(told.count)个" : "")",
                "  ⏱ \(format.clock(step.at)) \(what): told \(told.prefix(10).joined(separator: ", "))\(told.count > 10 ? " and \(told.count - 10) more" : "")"
            ))
        }
        if let note = task.closeNote, !note.isEmpty { lines.append(lang.pick("说明：\(note)", "Note: \(note)")) }
        return lines.joined(separator: "\n")
    }

    public static func excerpt(_ text: String, _ limit: Int = 24) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    /// A tier's name for people (plural in English: "towns").
    public static func tierName(_ tier: String, _ lang: Language) -> String {
        switch tier {
        case "district": return lang.pick("区县", "district")
        case "town": return lang.pick("镇街", "towns")
        case "community": return lang.pick("村社区", "communities")
        case "grid": return lang.pick("网格", "grids")
        default: return tier
        }
    }
}
