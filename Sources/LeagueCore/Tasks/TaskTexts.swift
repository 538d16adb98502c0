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
    /// A reminder that fires at or after the deadline (the bot was down, or the clock jumped) says so.
    public func reminder(_ task: WorkTask, left: Double, ackHint: String) -> String {
        let leftText = DurationText.human(left, language: lang)
        let action = task.kind == .dispatch ? ackHint : lang.pick("发送 /认领 \(task.label) 认领", "send /claim \(task.label)")
        if left < 1 {
            return lang.pick(
                "⏰ 提醒：\(task.kind == .dispatch ? "任务" : "上报") \(task.label)「\(Self.excerpt(task.text))」还未确认，已到截止时间（\(format.clock(task.deadline))），请尽快\(action)。",
                "⏰ Reminder: \(task.kind == .dispatch ? "task" : "report") \(task.label) “\(Self.excerpt(task.text))” is not acknowledged yet and its deadline (\(format.clock(task.deadline))) has come. Please \(action) now."
            )
        }
        return lang.pick(
            "⏰ 提醒：\(task.kind == .dispatch ? "任务" : "上报") \(task.label)「\(Self.excerpt(task.text))」还未确认，距截止还有\(leftText)（\(format.clock(task.deadline))），请\(action)。",
            "⏰ Reminder: \(task.kind == .dispatch ? "task" : "report") \(task.label) “\(Self.excerpt(task.text))” is not acknowledged yet; \(leftText) left (by \(format.clock(task.deadline))). Please \(action)."
        )
    }

    /// Step ≥ 1: the breach notice to a supervising group, naming the late groups it is told about.
    public func breach(_ task: WorkTask, elapsed: Double, late names: [String], issuerUnitName: String) -> String {
        let elapsedText = DurationText.human(elapsed, language: lang)
        let listed = lang.list(names, limit: 30)
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
        let statusText = task.status.name(lang)
        var lines: [String] = []
        let kindText = task.kind == .dispatch ? lang.pick("任务", "Task") : lang.pick("上报", "Report")
        lines.append(
            lang.pick(
                "📋 \(kindText) \(task.label)\(task.urgent ? "（紧急）" : "")「\(Self.excerpt(task.text, 40))」\(statusText)",
                "📋 \(kindText) \(task.label)\(task.urgent ? " (urgent)" : "") “\(Self.excerpt(task.text, 40))” – \(statusText)"
            ))
        lines.append(
            lang.pick(
                "发出 \(format.dayAndClock(task.createdAt))，目标 \(DurationText.human(task.targetSeconds, language: lang))（\(format.clock(task.deadline))）",
                "Sent \(format.dayAndClock(task.createdAt)), target \(DurationText.human(task.targetSeconds, language: lang)) (by \(format.clock(task.deadline)))"
            ))
        if task.kind == .report {
            if let claimedAt = task.claimedAt, let by = task.claimedBy {
                let who = org.member(by)?.name ?? by
                lines.append(
                    lang.pick(
                        "认领：\(who)，用时\(DurationText.human(claimedAt.timeIntervalSince(task.createdAt), language: lang))",
                        "Claimed by \(who) after \(DurationText.human(claimedAt.timeIntervalSince(task.createdAt), language: lang))"))
            } else {
                lines.append(lang.pick("尚未认领", "Not claimed yet"))
            }
        } else {
            lines.append(lang.pick("已确认 \(done.count)/\(targets.count)，未确认 \(missing.count)", "Acknowledged \(done.count)/\(targets.count), missing \(missing.count)"))
            let large = targets.count > 30
            if large {
                let tierOf = { (target: TaskTarget) in org.unit(target.unitID)?.tier ?? "?" }
                let byTier = Dictionary(grouping: targets, by: tierOf)
                var listed: Set<String> = []
                for tier in targets.map(tierOf) where listed.insert(tier).inserted {
                    let all = byTier[tier]!
                    let done = all.filter { !$0.isWaiting }.count
                    lines.append(lang.pick("  \(Self.tierName(tier, lang))：\(done)/\(all.count)", "  \(Self.tierName(tier, lang)): \(done)/\(all.count)"))
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
                let names = lang.list(missing.compactMap { org.unit($0.unitID)?.name }, limit: 50)
                lines.append(lang.pick("  ❌ 未确认：\(names)", "  ❌ Missing: \(names)"))
            }
        }
        for step in steps.sorted(by: { $0.step < $1.step }) {
            let told = step.notifiedUnitIDs.compactMap { org.unit($0)?.name }
            let what = step.step == 0 ? lang.pick("提醒", "reminder") : lang.pick("第\(step.step)级升级", "escalation level \(step.step)")
            lines.append(
                lang.pick(
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

// MARK: Replies and notices of the task commands

extension TaskTexts {
    /// `/任务`: the sender's confirmation, with the groups that could not be reached (the first ten named).
    public func dispatched(_ task: WorkTask, groups: Int, unreachable: [String]) -> String {
        var text = lang.pick(
            "已派发\(task.urgent ? "紧急" : "")任务 \(task.label) 到 \(groups) 个群，要求\(DurationText.human(task.targetSeconds, language: .zh))内确认（\(format.clock(task.deadline))前）。发送 /进度 \(task.label) 查看确认情况。",
            "Dispatched \(task.urgent ? "urgent " : "")task \(task.label) to \(groups) group(s); acknowledgement due within \(DurationText.human(task.targetSeconds, language: .en)) (by \(format.clock(task.deadline))). Send /status \(task.label) for the roll call."
        )
        if !unreachable.isEmpty {
            let names = unreachable.prefix(10).joined(separator: "、")
            text += lang.pick("\n⚠️ \(unreachable.count) 个单位未绑定群，无法送达：\(names)", "\n⚠️ \(unreachable.count) unit(s) have no group bound and cannot be reached: \(names)")
        }
        return text
    }

    /// `/上报`: the sender's confirmation.
    public func reported(_ task: WorkTask, to unitName: String) -> String {
        lang.pick(
            "已上报 \(task.label) 到 \(unitName)，要求\(DurationText.human(task.targetSeconds, language: .zh))内认领，未认领将逐级上报。",
            "Report \(task.label) sent to \(unitName); it must be claimed within \(DurationText.human(task.targetSeconds, language: .en)) or it goes one tier further up."
        )
    }

    public func alreadyAcknowledged(_ task: WorkTask) -> String {
        lang.pick("\(task.label) 本群已确认过。", "This group has already acknowledged \(task.label).")
    }

    public func closedNoAcknowledgement(_ task: WorkTask) -> String {
        lang.pick("\(task.label) 已结束，无需确认。", "\(task.label) is closed; no acknowledgement needed.")
    }

    public var nothingWaiting: String { lang.pick("本群没有待确认的任务。", "This group has no task waiting for acknowledgement.") }

    /// To the reporting group: its report was claimed.
    public func reportClaimed(_ task: WorkTask, unitName: String, memberName: String) -> String {
        lang.pick("📌 您的上报 \(task.label) 已由 \(unitName) \(memberName) 认领。", "📌 Your report \(task.label) was claimed by \(memberName) (\(unitName)).")
    }

    /// `/认领`: the claimer's confirmation.
    public func claimed(_ task: WorkTask) -> String {
        lang.pick("已认领 \(task.label)。处理完毕后发送 /完成 \(task.label) 说明。", "You claimed \(task.label). Send /done \(task.label) with a note when it is handled.")
    }

    /// To the reporting group: its report was resolved, with the note if any.
    public func reportResolved(_ task: WorkTask, note: String) -> String {
        let suffix = note.isEmpty ? "" : lang.pick("：\(note)", ": \(note)")
        return lang.pick("✅ 上报 \(task.label) 已办结\(suffix)", "✅ Report \(task.label) is resolved\(suffix)")
    }

    public func done(_ task: WorkTask) -> String { lang.pick("\(task.label) 已完成。", "\(task.label) is done.") }

    /// To a group still waiting: the task was cancelled.
    public func cancelledNotice(_ task: WorkTask) -> String {
        lang.pick("🚫 \(task.label)「\(Self.excerpt(task.text))」已撤销，无需再确认。", "🚫 \(task.label) “\(Self.excerpt(task.text))” was cancelled; no acknowledgement needed.")
    }

    public func cancelled(_ task: WorkTask) -> String { lang.pick("\(task.label) 已撤销。", "\(task.label) is cancelled.") }

    /// Where an open task stands, seen from one group (`/进度` without a task).
    public enum OpenTaskState: Sendable, Hashable {
        case waitingHere, acknowledgedHere, unclaimed, claimed
        case acknowledged(Int, of: Int)
    }

    /// `/进度`: the open tasks involving the group.
    public func openTasks(_ rows: [(task: WorkTask, state: OpenTaskState)]) -> String {
        guard !rows.isEmpty else { return lang.pick("本群没有进行中的任务。", "This group has no open tasks.") }
        var lines = [lang.pick("进行中的任务（\(rows.count)）：", "Open tasks (\(rows.count)):")]
        for (task, state) in rows {
            let text: String
            switch state {
            case .waitingHere: text = lang.pick("本群待确认", "waiting for this group")
            case .acknowledgedHere: text = lang.pick("本群已确认", "acknowledged here")
            case .unclaimed: text = lang.pick("未认领", "unclaimed")
            case .claimed: text = lang.pick("已认领", "claimed")
            case .acknowledged(let done, let all): text = "\(done)/\(all)"
            }
            lines.append("\(task.urgent ? "🔴" : "•") \(task.label) \(Self.excerpt(task.text, 20)) — \(text)")
        }
        return lines.joined(separator: "\n")
    }

    /// The line that ends the issuer's reply when the robots' rate limits hold the notices back: the
    /// last should be delivered after `wait` seconds, by `by`.
    public func deliveryNote(wait: Double, by: Date) -> String {
        lang.pick(
            "\n⏳ 群机器人有发送频率限制，通知排队发送：预计最后一条约\(DurationText.human(wait, language: .zh))后（\(format.clock(by))前）送达，不会丢失。",
            "\n⏳ The group robots are rate limited, so the notices are queued: the last one should be delivered in about \(DurationText.human(wait, language: .en)) (by \(format.clock(by))); none is dropped."
        )
    }
}
