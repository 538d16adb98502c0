import Foundation

/// The messages of the deliberation day, as pure functions of the state they describe.
public enum DeliberationNotices {
    /// The eve or day reminder of one group: agenda, checklist (day only), open items carried over.
    public static func reminder(
        _ phase: DeliberationPhase, day: DeliberationDay, unit: OrgUnit, agenda: [AgendaItem],
        carried: [FollowUp], settings: DeliberationSettings, language lang: Language
    ) -> String {
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
                    lines.append(
                        lang.pick(
                            "  • 待办 \(item.taskID.map { "T-\($0) " } ?? "")\(item.ownerName ?? "")：\(item.text)",
                            "  • action \(item.taskID.map { "T-\($0) " } ?? "")\(item.ownerName ?? ""): \(item.text)"))
                case .demand:
                    lines.append(lang.pick("  • 诉求 \(item.demandRef.map { "\($0) " } ?? "")\(item.text)", "  • demand \(item.demandRef.map { "\($0) " } ?? "")\(item.text)"))
                }
            }
            if carried.count > 20 { lines.append(lang.pick("  …等\(carried.count)项", "  … \(carried.count) in all")) }
        }
        let due = format.clock(day.due)
        lines.append(
            lang.pick(
                "议事时发送 /议事 开始 主题 记录，/议事 结束 收尾；纪要请于\(date) \(due)前完成。",
                "Record the meeting with /meeting start <title> … /meeting end; minutes are due by \(date) \(due)."
            ))
        return lines.joined(separator: "\n")
    }

    /// The follow-up at minutes_due: one message per supervisor group listing its groups without
    /// minutes for the month (not one message per group). A supervisor unit without a group passes
    /// the list one step further up its escalation chain.
    public static func missingMinutes(
        month: DeliberationMonth, day: DeliberationDay, missing: [OrgUnit], org: OrgTree,
        settings: DeliberationSettings, language lang: Language
    ) -> [OutboundMessage] {
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
            let listed = lang.list(names, limit: 50)
            let text = lang.pick(
                "📋 议事纪要未提交：\(date)议事日（\(month)），以下\(names.count)个群尚无议事纪要：\(listed)。请督促补记（/议事 开始 … /议事 结束），发送 /纪要 查看已提交情况。",
                "📋 Minutes missing: for the \(date) deliberation day (\(month)) \(names.count) group(s) have no minutes yet: \(listed). Please follow up (/meeting start … /meeting end); send /minutes for the overview."
            )
            return OutboundMessage(
                key: "delib:\(month):missing:\(id)", unitID: id, group: group, text: text,
                mentions: TaskPolicy.mentions(of: entry.mention, platform: group.platform))
        }
    }

    /// The groups that hold a deliberation day: bound units of the configured tiers.
    public static func deliberatingUnits(_ org: OrgTree, settings: DeliberationSettings) -> [OrgUnit] {
        org.units.filter { settings.owesMinutes($0) && $0.group != nil }
    }
}

// MARK: Replies in chat

extension DeliberationNotices {
    /// `/议程 内容` in the sender's own group: the item's number.
    public static func agendaAdded(date: String, number: Int, language lang: Language) -> String {
        lang.pick(
            "已加入\(date)议事日议程（第\(number)项）。发送 /议程 查看全部。",
            "Added to the agenda of the \(date) deliberation day (item \(number)). Send /agenda to list them.")
    }

    /// `/议程 内容 @下级…`: the groups it was added for (the first ten named).
    public static func agendaAdded(date: String, for names: [String], language lang: Language) -> String {
        let shown = names.prefix(10).joined(separator: "、")
        let more = names.count > 10 ? lang.pick(" 等", " and more") : ""
        return lang.pick(
            "已为 \(names.count) 个群加入\(date)议事日议程：\(shown)\(more)。",
            "Added to the \(date) deliberation-day agenda of \(names.count) group(s): \(shown)\(more).")
    }

    /// `/议程`: the group's own items with who added them, the items it added below (with how many
    /// groups each), and the open items carried into the reminders.
    public static func agendaList(
        date: String, unitName: String, own: [(text: String, from: String)], sentBelow: [(text: String, groups: Int)],
        carried: [FollowUp], language lang: Language
    ) -> String {
        var lines = [lang.pick("\(date)议事日议程（\(unitName)）：", "Agenda for the \(date) deliberation day (\(unitName)):")]
        if own.isEmpty { lines.append(lang.pick("  （暂无）", "  (none yet)")) }
        for (index, item) in own.enumerated() { lines.append("  \(index + 1). \(item.text)（\(item.from)）") }
        if !sentBelow.isEmpty {
            lines.append(lang.pick("本群为下级添加的议程：", "Items this group added for the groups below:"))
            for item in sentBelow { lines.append(lang.pick("  • \(item.text)（\(item.groups)个群）", "  • \(item.text) (\(item.groups) groups)")) }
        }
        if !carried.isEmpty {
            lines.append(lang.pick("未结事项（将带入提醒）：", "Open items (carried into the reminders):"))
            for item in carried.prefix(20) {
                let head =
                    item.kind == .action
                    ? lang.pick("待办", "action") + (item.taskID.map { " T-\($0)" } ?? "") + " \(item.ownerName ?? "")"
                    : lang.pick("诉求", "demand") + (item.demandRef.map { " \($0)" } ?? "")
                lines.append("  • \(head)：\(item.text)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The title of a meeting opened without one.
    public static func defaultTitle(unitName: String, month: DeliberationMonth, language lang: Language) -> String {
        lang.pick("\(unitName)青年议事会（\(month)）", "\(unitName) youth council (\(month))")
    }

    /// `/议事 开始`: recording has started; how to mark items; the month's agenda.
    public static func meetingOpened(_ meeting: Meeting, autoCloseSeconds: Double, agenda: [AgendaItem], language lang: Language) -> String {
        var lines = [
            lang.pick(
                "🟢 议事 \(meeting.label)「\(meeting.title)」开始记录。本群发言都记入纪要；用 /议题 /记录 /决议 /待办 @人 内容 /诉求 内容 标记，/议事 结束 收尾（\(DurationText.human(autoCloseSeconds, language: .zh))未结束将自动结束）。",
                "🟢 Meeting \(meeting.label) “\(meeting.title)” is being recorded. Every message here goes into the minutes; mark items with /topic /note /agreed /action @who text /demand text, and close with /meeting end (closed automatically after \(DurationText.human(autoCloseSeconds, language: .en)))."
            )
        ]
        if !agenda.isEmpty {
            lines.append(lang.pick("议程：", "Agenda:"))
            for (index, item) in agenda.enumerated() { lines.append("  \(index + 1). \(item.text)") }
        }
        return lines.joined(separator: "\n")
    }

    /// `/议事` while a meeting is open, or not.
    public static func meetingStatus(_ open: Meeting?, format: TimeFormat, language lang: Language) -> String {
        guard let open else {
            return lang.pick("本群没有进行中的议事。发送 /议事 开始 主题 开始记录。", "No meeting is open here. Send /meeting start <title> to begin.")
        }
        return lang.pick(
            "议事 \(open.label)「\(open.title)」进行中（\(format.clock(open.openedAt))开始，\(open.openedBy.name)），已标记 \(open.items.count) 项。发送 /议事 结束 收尾。",
            "Meeting \(open.label) “\(open.title)” is open (since \(format.clock(open.openedAt)), \(open.openedBy.name)); \(open.items.count) item(s) marked. Send /meeting end to close it."
        )
    }

    /// `/议题`, `/记录`, `/决议`: the item was marked (`number`: how many of its kind the meeting has).
    public static func marked(_ item: MeetingItem, number: Int, language lang: Language) -> String {
        switch item.kind {
        case .topic: return lang.pick("📌 议题\(number)：\(item.text)", "📌 Topic \(number): \(item.text)")
        case .agreed: return lang.pick("✔ 已记录决议\(number)。", "✔ Decision \(number) recorded.")
        default: return lang.pick("✔ 已记录。", "✔ Noted.")
        }
    }

    /// `/纪要 [单位] [月份]`: the unit's meetings of the month and, for a unit with groups below that
    /// hold deliberation day, how many have minutes and which do not.
    public static func minutesSummary(
        unitName: String, month: DeliberationMonth, own: [Meeting], ownExpected: Bool, below: [OrgUnit],
        withMinutes: Set<String>, format: TimeFormat, language lang: Language
    ) -> String {
        var lines = [lang.pick("\(unitName) \(month) 议事纪要：", "Minutes of \(unitName), \(month):")]
        if own.isEmpty && ownExpected { lines.append(lang.pick("  （本月暂无纪要）", "  (no minutes this month)")) }
        for meeting in own {
            lines.append(
                lang.pick(
                    "  • \(meeting.label) \(format.dayAndClock(meeting.openedAt))「\(meeting.title)」决议\(meeting.items(.agreed).count) 待办\(meeting.items(.action).count) 诉求\(meeting.items(.demand).count)",
                    "  • \(meeting.label) \(format.dayAndClock(meeting.openedAt)) “\(meeting.title)”: \(meeting.items(.agreed).count) decisions, \(meeting.items(.action).count) actions, \(meeting.items(.demand).count) demands"
                ))
        }
        if !below.isEmpty {
            let missing = below.filter { !withMinutes.contains($0.id) }
            lines.append(lang.pick("下级已提交纪要 \(below.count - missing.count)/\(below.count)", "Groups below with minutes: \(below.count - missing.count)/\(below.count)"))
            if !missing.isEmpty {
                let names = lang.list(missing.map(\.name), limit: 30)
                lines.append(lang.pick("  未提交：\(names)", "  Missing: \(names)"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The line that ends a minutes answer: the signed link to the full minutes and how long it works.
    public static func minutesLink(_ url: String, ttlSeconds: Double, language lang: Language) -> String {
        let days = Int((ttlSeconds / 86400).rounded(.down))
        let valid = days >= 1 ? lang.pick("（\(days)天内有效）", " (valid \(days) day\(days == 1 ? "" : "s"))") : lang.pick("（限时有效）", " (valid for a limited time)")
        return lang.pick("\n全文：\(url)\(valid)", "\nFull minutes: \(url)\(valid)")
    }
}

extension DeliberationNotices {
    /// The text of the task a meeting's action becomes (`/待办 @人 内容`).
    public static func actionTask(_ text: String, meetingLabel: String, ownerName: String, language lang: Language) -> String {
        lang.pick("【议事待办 \(meetingLabel)】\(text)（负责人：\(ownerName)）", "[Meeting action \(meetingLabel)] \(text) (owner: \(ownerName))")
    }

    /// `/待办`: recorded, and dispatched as these tasks (`T-n owner`).
    public static func actionsDispatched(_ created: [String], language lang: Language) -> String {
        lang.pick(
            "✔ 已记录待办并派发任务：\(created.joined(separator: "、"))。发送 /进度 查看确认情况。",
            "✔ Action recorded and dispatched as: \(created.joined(separator: ", ")). Send /status to follow it.")
    }
}
