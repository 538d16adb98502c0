import Foundation

/// The registry's sentences in chat — demand confirmations and notices, the /查询 answers not
/// rendered by `AssessmentRender` — Chinese and English side by side. Pure.
public enum RegistryTexts {
    /// `/诉求 内容`: registered, with its category and whether it went into an open meeting's minutes.
    public static func registered(_ demand: Demand, inMinutes: Bool, language lang: Language) -> String {
        let category = demand.category.map { lang.pick("，类别：\($0)", ", category: \($0)") } ?? ""
        let minutes = inMinutes ? lang.pick("已记入本次议事纪要。", " It is in the minutes of the open meeting.") : ""
        return lang.pick(
            "已登记诉求 \(demand.label)\(category)。\(minutes)需要上级协调时发送 /诉求 发布 \(demand.label)。",
            "Registered demand \(demand.label)\(category).\(minutes) To ask the tier above for help, send /demand publish \(demand.label).")
    }

    /// To the group above: a demand was published to it.
    public static func publishedNotice(_ demand: Demand, from unitName: String, language lang: Language) -> String {
        let category = demand.category.map { lang.pick("（\($0)）", " (\($0))") } ?? ""
        return lang.pick(
            "📢 \(unitName)发布诉求 \(demand.label)\(category)：\(TaskTexts.excerpt(demand.text, 60))\n可以办理的请发送 /诉求 认领 \(demand.label)",
            "📢 \(unitName) published demand \(demand.label)\(category): \(TaskTexts.excerpt(demand.text, 60))\nTo take it on, send /demand claim \(demand.label)")
    }

    /// What the sender is told after an action on a demand (`to`: the unit it was published to).
    public static func applied(_ action: DemandPolicy.Action, _ demand: Demand, to unitName: String?, language lang: Language) -> String {
        switch action {
        case .publish:
            return lang.pick("已将 \(demand.label) 发布到\(unitName ?? "上级")。", "Published \(demand.label) to \(unitName ?? "the tier above").")
        case .claim:
            return lang.pick(
                "已认领 \(demand.label)。办理中请用 /诉求 进展 \(demand.label) 说明，办结后 /诉求 解决 \(demand.label) 说明。",
                "You claimed \(demand.label). Report with /demand progress \(demand.label) note, and /demand resolve \(demand.label) note when done.")
        case .progress:
            return lang.pick("已记录 \(demand.label) 的进展。", "Progress on \(demand.label) recorded.")
        case .resolve:
            return lang.pick("\(demand.label) 已解决。", "\(demand.label) is resolved.")
        case .close:
            return lang.pick("\(demand.label) 已关闭，原因：\(demand.note ?? "")", "\(demand.label) is closed: \(demand.note ?? "")")
        }
    }

    /// To the group that collected a demand, when it changed elsewhere (nil: nothing to tell).
    public static func originNotice(
        _ action: DemandPolicy.Action, _ demand: Demand, by memberName: String, of unitName: String,
        language lang: Language
    ) -> String? {
        switch action {
        case .publish:
            return nil
        case .claim:
            return lang.pick("📌 诉求 \(demand.label) 已由\(unitName) \(memberName)认领。", "📌 Demand \(demand.label) was claimed by \(memberName) (\(unitName)).")
        case .progress:
            return lang.pick("🔄 诉求 \(demand.label) 进展：\(demand.note ?? "")", "🔄 Demand \(demand.label) progress: \(demand.note ?? "")")
        case .resolve:
            return lang.pick("✅ 诉求 \(demand.label) 已解决：\(demand.note ?? "")", "✅ Demand \(demand.label) is resolved: \(demand.note ?? "")")
        case .close:
            return lang.pick("🚫 诉求 \(demand.label) 已关闭：\(demand.note ?? "")", "🚫 Demand \(demand.label) was closed: \(demand.note ?? "")")
        }
    }

    /// `/查询 任务`: the month's figures of a unit's subtree and its open tasks (`waiting`, `targets` per task).
    public static func tasksAnswer(
        unitName: String, assigned: Int, acknowledged: Int, late: Int, breaches: Int,
        open: [(task: WorkTask, waiting: Int, targets: Int)], language lang: Language
    ) -> String {
        var lines = [
            lang.pick(
                "📌 \(unitName) 任务（本月）：派达 \(assigned)，已确认 \(acknowledged)，超时确认 \(late)，超时未确认记录 \(breaches)",
                "📌 Tasks of \(unitName) this month: \(assigned) delivered, \(acknowledged) acknowledged, \(late) late, \(breaches) breach(es)")
        ]
        if open.isEmpty {
            lines.append(lang.pick("进行中的任务：无", "Open tasks: none"))
        } else {
            lines.append(lang.pick("进行中的任务：", "Open tasks:"))
            for row in open {
                lines.append(
                    "\(row.task.urgent ? "🔴" : "•") \(row.task.label) \(TaskTexts.excerpt(row.task.text, 20)) — "
                        + lang.pick("待确认 \(row.waiting)/\(row.targets)", "\(row.waiting)/\(row.targets) waiting"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `/查询 纪要`: whether a unit that alone owes minutes has them, or how many of the units below that owe them do.
    public static func minutesAnswer(
        unitName: String, month: String, owing: [OrgUnit], withMinutes: Set<String>, alone: Bool,
        language lang: Language
    ) -> String {
        if alone {
            let has = owing.contains { withMinutes.contains($0.id) }
            return has
                ? lang.pick("📝 \(unitName) \(month) 议事日纪要：有", "📝 \(unitName) has minutes for \(month)")
                : lang.pick("📝 \(unitName) \(month) 议事日纪要：无", "📝 \(unitName) has no minutes for \(month)")
        }
        let missing = owing.filter { !withMinutes.contains($0.id) }
        var lines = [
            lang.pick(
                "📝 \(unitName) \(month) 议事日纪要：\(owing.count - missing.count)/\(owing.count) 个议事单位已有纪要",
                "📝 \(unitName) \(month): \(owing.count - missing.count) of \(owing.count) deliberating units have minutes")
        ]
        if !missing.isEmpty {
            lines.append(lang.pick("尚无纪要：", "No minutes yet: ") + missing.prefix(10).map(\.name).joined(separator: "、") + (missing.count > 10 ? lang.pick(" 等", " …") : ""))
        }
        return lines.joined(separator: "\n")
    }
}
