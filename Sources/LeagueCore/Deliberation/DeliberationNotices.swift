import Foundation

/// The messages of the deliberation day, as pure functions of the state they describe.
public enum DeliberationNotices {
    /// The eve or day reminder of one group: agenda, checklist (day only), open items carried over.
    public static func reminder(_ phase: DeliberationPhase, day: DeliberationDay, unit: OrgUnit, agenda: [AgendaItem],
                                carried: [FollowUp], settings: DeliberationSettings, language lang: Language) -> String {
        let date = DeliberationSchedule.dateText(day, language: lang)
        let format = TimeFormat(timeZone: settings.timeZone)
        var lines: [String] = []
        switch phase {
        case .eve:
            lines.append(lang.pick("📅 明天（\(date)）是议事日。\(unit.name)已收集的议程：", "📅 Tomorrow (\(date)) is deliberation day. Agenda collected for \(unit.name):"))
        case .day, .due:
            lines.append(lang.pick("📣 今天（\(date)）是议事日。请\(unit.name)按清单走访、议事：", "📣 Today (\(date)) is deliberation day. \(unit.name), please visit and deliberate:"))
            for (index, line) in settings.checklist.enumerated() { lines.append("  \(index + 1). \(line)") }
            lines.append(lang.pick("议程：", "Agenda:"))
        }
        if agenda.isEmpty {
            lines.append(lang.pick("  （暂无议程，发送 /议程 内容 添加）", "  (nothing yet; send /agenda <text> to add an item)"))
        } else {
            for (index, item) in agenda.enumerated() { lines.append("  \(index + 1). \(item.text)") }
        }
        if !carried.isEmpty {
            lines.append(lang.pick("上次议事未结事项（\(carried.count)）：", "Still open from earlier meetings (\(carried.count)):"))
            for item in carried.prefix(20) {
                switch item.kind {
                case .action:
                    lines.append(lang.pick("  • 待办 \(item.taskID.map { "T-\($0) " } ?? "")\(item.ownerName ?? "")：\(item.text)",
                                           "  • action \(item.taskID.map { "T-\($0) " } ?? "")\(item.ownerName ?? ""): \(item.text)"))
                case .demand:
                    lines.append(lang.pick("  • 诉求 \(item.demandRef.map { "\($0) " } ?? "")\(item.text)", "  • demand \(item.demandRef.map { "\($0) " } ?? "")\(item.text)"))
                }
            }
            if carried.count > 20 { lines.append(lang.pick("  …等\(carried.count)项", "  … \(carried.count) in all")) }
        }
        let due = format.clock(day.due)
        lines.append(lang.pick(
            "议事时发送 /议事 开始 主题 记录，/议事 结束 收尾；纪要请于\(date) \(due)前完成。",
            "Record the meeting with /meeting start <title> … /meeting end; minutes are due by \(date) \(due)."
        ))
        return lines.joined(separator: "\n")
    }

    /// The follow-up at minutes_due: one message per supervisor group listing its groups without
    /// minutes for the month (not one message per group). A supervisor unit without a group passes
    /// the list one step further up its escalation chain.
    public static func missingMinutes(month: DeliberationMonth, day: DeliberationDay, missing: [OrgUnit], org: OrgTree,
                                      settings: DeliberationSettings, language lang: Language) -> [OutboundMessage] {
        var order: [String] = []
        var byUnit: [String: (unit: OrgUnit, late: [OrgUnit], mention: [Member])] = [:]
        for unit in missing {
            guard let tell = org.escalationChain(of: unit.id).first(where: { $0.group != nil }) else { continue }
            if byUnit[tell.id] == nil {
                order.append(tell.id)
                byUnit[tell.id] = (tell, [], [])
            }
            byUnit[tell.id]!.late.append(unit)
            for member in org.supervisors(of: unit.id) where !byUnit[tell.id]!.mention.contains(member) {
                byUnit[tell.id]!.mention.append(member)
            }
        }
        let date = DeliberationSchedule.dateText(day, language: lang)
        return order.compactMap { id -> OutboundMessage? in
            guard let entry = byUnit[id], let group = entry.unit.group else { return nil }
            let names = entry.late.map(\.name)
            let listed = names.prefix(50).joined(separator: "、") + (names.count > 50 ? lang.pick(" 等\(names.count)个", " and \(names.count - 50) more") : "")
            let text = lang.pick(
                "📋 议事纪要未提交：\(date)议事日（\(month)），以下\(names.count)个群尚无议事纪要：\(listed)。请督促补记（/议事 开始 … /议事 结束），发送 /纪要 查看已提交情况。",
                "📋 Minutes missing: for the \(date) deliberation day (\(month)) \(names.count) group(s) have no minutes yet: \(listed). Please follow up (/meeting start … /meeting end); send /minutes for the overview."
            )
            return OutboundMessage(key: "delib:\(month):missing:\(id)", unitID: id, group: group, text: text,
                                   mentions: TaskPolicy.mentions(of: entry.mention, platform: group.platform))
        }
    }

    /// The groups that hold a deliberation day: bound units of the configured tiers.
    public static func deliberatingUnits(_ org: OrgTree, settings: DeliberationSettings) -> [OrgUnit] {
        org.units.filter { settings.tiers.contains($0.tier) && $0.group != nil }
    }
}
