import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging

/// Deliberation day: agenda, meetings and minutes, reminders, missing-minutes follow-up.
///
/// Reminders are durable timers (`delib:2026-11:eve|day|due`, kind `deliberation`): each fires once,
/// schedules the months ahead, and sends only while still relevant (`DeliberationSchedule.isRelevant`).
/// Meetings are recorded by `MeetingRecorder`; the transcript is read back from the inbox at close.
public enum DeliberationFeature: Feature {
    /// The timer kind of a meeting's auto-close.
    public static let autoCloseKind = TimerKind.deliberationMeeting

    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
        commands["agenda"] = agenda
        commands["meeting"] = meeting
        commands["topic"] = { try mark(.topic, $0) }
        commands["note"] = { try mark(.note, $0) }
        commands["agreed"] = { try mark(.agreed, $0) }
        commands["action"] = action
        commands["minutes"] = minutes
        timers[DeliberationSchedule.timerKind] = fire
        timers[autoCloseKind] = autoClose
    }

    // MARK: Scheduling

    /// Sets this and next month's reminder timers that are still ahead or still relevant; idempotent.
    /// Called at start-up, after every deliberation timer, and by the agenda command.
    public static func ensureScheduled(_ tx: any StoreTransaction, settings: DeliberationSettings, now: Date) throws {
        for timer in DeliberationSchedule.timers(at: now, settings: settings) { try tx.schedule(timer) }
    }

    /// The start-up hook: schedules the reminders in one transaction; failures are logged, not thrown.
    static func start(_ engine: Engine) async { await ensureScheduled(engine: engine) }

    /// Schedules this and next month's reminders (idempotent); failures are logged, not thrown.
    public static func ensureScheduled(engine: Engine) async {
        let config = engine.config
        let now = engine.clock.now()
        await engine.writeOrLog("could not schedule deliberation reminders") { tx in
            try ensureScheduled(tx, settings: config.deliberation, now: now)
            // The minutes-link key exists before any read-only /纪要 needs it (they cannot write it in time).
            _ = try linkKey(config, tx: tx)
        }
    }

    /// A deliberation timer: the eve or day reminder to every deliberating group, or the missing-minutes follow-up.
    static func fire(_ t: TimerContext) throws {
        let settings = t.config.deliberation
        try ensureScheduled(t.tx, settings: settings, now: t.now)
        guard let phase = DeliberationPhase(rawValue: t.timer.step), let month = DeliberationMonth(text: t.timer.subject) else {
            throw TimerPoison("deliberation timer \(t.timer.key): step \(t.timer.step) or month \(t.timer.subject) does not decode")
        }
        guard DeliberationSchedule.isRelevant(phase, of: month, at: t.now, settings: settings) else {
            t.engine.logger.notice("deliberation reminder no longer relevant; skipped", metadata: ["key": "\(t.timer.key)"])
            try t.tx.append(EventRecord(at: t.now, kind: .deliberationSkipped, data: ["key": t.timer.key]))
            return
        }
        let day = DeliberationSchedule.day(of: month, settings: settings)
        let lang = t.config.language
        let units = DeliberationNotices.deliberatingUnits(t.org, settings: settings)
        switch phase {
        case .eve, .day:
            for unit in units {
                guard let group = unit.group else { continue }
                let agenda = try t.tx.agenda(unitID: unit.id, month: month.description)
                let carried = try openFollowUps(unit.id, t.tx, now: t.now)
                let text = DeliberationNotices.reminder(phase, day: day, unit: unit, agenda: agenda, carried: carried, settings: settings, language: lang)
                try t.tx.enqueue(OutboundMessage(key: "delib:\(month):\(phase.key):\(unit.id)", unitID: unit.id, group: group, text: text), at: t.now)
            }
            try t.tx.append(EventRecord(at: t.now, kind: phase.eventKind, data: ["month": month.description, "groups": String(units.count)]))
        case .due:
            let done = try t.tx.unitsWithMinutes(month: month.description)
            let missing = units.filter { !done.contains($0.id) }
            let notices = DeliberationNotices.missingMinutes(month: month, day: day, missing: missing, org: t.org, settings: settings, language: lang)
            for notice in notices { try t.tx.enqueue(notice, at: t.now) }
            for unit in missing {
                try t.tx.append(EventRecord(at: t.now, kind: .deliberationMissing, unitID: unit.id, data: ["month": month.description]))
            }
        }
    }

    /// Open carried items of a unit; actions whose task is closed are closed here too.
    static func openFollowUps(_ unitID: String, _ tx: any StoreTransaction, now: Date) throws -> [FollowUp] {
        var open: [FollowUp] = []
        var closed: [Int64] = []
        for item in try tx.openFollowUps(unitID: unitID) {
            if item.kind == .action, let taskID = item.taskID, let task = try tx.task(taskID), task.status != .open {
                closed.append(item.id)
            } else {
                open.append(item)
            }
        }
        if !closed.isEmpty { try tx.closeFollowUps(closed, at: now) }
        return open
    }

    // MARK: Agenda

    /// `/议程 [@目标 …] [内容]`: adds an item for the next deliberation day, or lists them.
    static func agenda(_ c: CommandContext) throws {
        let member = try c.requireMember()
        let settings = c.config.deliberation
        try ensureScheduled(c.tx, settings: settings, now: c.now)
        let month = DeliberationSchedule.agendaMonth(at: c.now, settings: settings)
        let date = DeliberationSchedule.dateText(DeliberationSchedule.day(of: month, settings: settings), language: c.language)
        let text = c.command.text
        guard !text.isEmpty else {
            guard c.command.targets.isEmpty else { throw Refusal(zh: "请写上议程内容。", en: "Please write the agenda item.") }
            try c.reply(agendaList(c, month: month, date: date))
            return
        }
        var targets: [OrgUnit]
        if c.command.targets.isEmpty && settings.tiers.contains(c.unit.tier) {
            targets = [c.unit]
        } else {
            guard c.org.mayActFor(member, unitID: c.unit.id),
                member.has(.admin) || member.has(.cadre)
            else {
                throw Refusal.notAllowed("为下级群添加议程（本单位的管理员或团干部可以）", "add agenda items for the groups below (admins and cadres of this unit can)")
            }
            let resolved =
                c.command.targets.isEmpty
                ? c.org.descendants(of: c.unit.id)
                : try TaskPolicy.resolveTargets(c.command.targets, from: c.unit, org: c.org)
            var seen: Set<String> = []
            targets = []
            for unit in resolved {
                let expanded = settings.tiers.contains(unit.tier) ? [unit] : c.org.descendants(of: unit.id).filter { settings.tiers.contains($0.tier) }
                for candidate in expanded where seen.insert(candidate.id).inserted { targets.append(candidate) }
            }
        }
        guard !targets.isEmpty else {
            throw Refusal(
                zh: "没有需要开议事日的下级群（议事日层级：\(settings.tiers.map { TaskTexts.tierName($0, .zh) }.joined(separator: "、"))）。",
                en: "There are no deliberating groups there (deliberation tiers: \(settings.tiers.joined(separator: ", "))).")
        }
        for unit in targets {
            try c.tx.insert(AgendaItem(unitID: unit.id, month: month.description, text: text, addedBy: person(member), sourceUnitID: c.unit.id, addedAt: c.now))
        }
        try c.log(.deliberationAgenda, data: ["month": month.description, "groups": String(targets.count)])
        if targets.count == 1 && targets[0].id == c.unit.id {
            let count = try c.tx.agendaCount(unitID: c.unit.id, month: month.description)
            try c.reply(DeliberationNotices.agendaAdded(date: date, number: count, language: c.language))
        } else {
            try c.reply(DeliberationNotices.agendaAdded(date: date, for: targets.map(\.name), language: c.language))
        }
    }

    static func agendaList(_ c: CommandContext, month: DeliberationMonth, date: String) throws -> String {
        let own = try c.tx.agenda(unitID: c.unit.id, month: month.description).map { item in
            (text: item.text, from: item.sourceUnitID == c.unit.id ? item.addedBy.name : (c.org.unit(item.sourceUnitID)?.name ?? item.sourceUnitID))
        }
        // What this group added below: each text once, with how many groups it went to.
        var counts: [String: Int] = [:]
        var order: [String] = []
        for item in try c.tx.agenda(addedBy: c.unit.id, month: month.description) where item.unitID != c.unit.id {
            if counts[item.text] == nil { order.append(item.text) }
            counts[item.text, default: 0] += 1
        }
        return DeliberationNotices.agendaList(
            date: date, unitName: c.unit.name, own: own, sentBelow: order.map { ($0, counts[$0]!) },
            carried: try openFollowUps(c.unit.id, c.tx, now: c.now), language: c.language)
    }

    // MARK: Meetings

    /// `/议事 开始 [主题]`, `/议事 结束`, `/议事` (what is open).
    static func meeting(_ c: CommandContext) throws {
        switch c.command.sub {
        case "start": try start(c)
        case "end": try end(c)
        default: try meetingStatus(c)
        }
    }

    static func person(_ member: Member) -> MeetingPerson {
        MeetingPerson(memberID: member.id, name: member.name, unitID: member.unitID)
    }

    static func state(_ c: CommandContext) throws -> MeetingRecorder.State {
        try c.tx.openMeeting(unitID: c.unit.id).map { .open($0) } ?? .idle
    }

    static func start(_ c: CommandContext) throws {
        let member = try c.requireMember()
        guard c.org.mayActFor(member, unitID: c.unit.id) else {
            throw Refusal.notAllowed("在\(c.unit.name)开始议事（本单位成员或上级管理员可以）", "open a meeting in \(c.unit.name) (its members or an admin above can)")
        }
        let settings = c.config.deliberation
        let month = DeliberationMonth(containing: c.now, timeZone: settings.timeZone)
        let title = c.command.text.isEmpty ? DeliberationNotices.defaultTitle(unitName: c.unit.name, month: month, language: c.language) : c.command.text
        let transition = try MeetingRecorder.apply(
            .open(
                id: try c.tx.nextMeetingID(), unitID: c.unit.id, unitName: c.unit.name, month: month.description, title: title,
                by: person(member), at: c.now, inbound: c.record.id),
            to: try state(c), autoCloseSeconds: settings.autoCloseSeconds)
        guard case .open(let meeting) = transition.state else { return }
        try c.tx.save(meeting)
        if let at = transition.autoCloseAt {
            try c.tx.schedule(TimerEntry(key: "delib-meeting:\(meeting.id):autoclose", dueAt: at, kind: autoCloseKind, subject: String(meeting.id), step: 0))
        }
        try c.log(.deliberationMeetingOpened, data: ["meeting": String(meeting.id), "month": meeting.month])
        let agenda = try c.tx.agenda(unitID: c.unit.id, month: DeliberationSchedule.agendaMonth(at: c.now, settings: settings).description)
        try c.reply(DeliberationNotices.meetingOpened(meeting, autoCloseSeconds: settings.autoCloseSeconds, agenda: agenda, language: c.language))
    }

    /// The transcript of an open meeting: the group's messages from the opening one through `through`.
    static func transcript(_ meeting: Meeting, unit: OrgUnit, through: Int64, tx: any StoreTransaction, org: OrgTree) throws -> [TranscriptLine] {
        guard let group = unit.group else { return [] }
        // A line whose text was not kept (personal data, issue 11) is left out, not shown empty.
        return try tx.inbound(platform: group.platform, chat: group.chat, after: meeting.startInbound - 1, through: through)
            .filter { !$0.message.text.isEmpty }.map { record in
                let speaker = org.member(platform: record.message.platform, userID: record.message.sender)?.name ?? record.message.sender
                return TranscriptLine(at: record.receivedAt, speaker: speaker, text: record.message.text)
            }
    }

    static func end(_ c: CommandContext) throws {
        let member = try c.requireMember()
        let current = try state(c)
        var lines: [TranscriptLine] = []
        if case .open(let open) = current {
            guard c.org.mayActFor(member, unitID: c.unit.id) || member.id == open.openedBy.memberID else {
                throw Refusal.notAllowed("结束本群议事（本单位成员或上级管理员可以）", "close this meeting (members of this unit or an admin above can)")
            }
            lines = try transcript(open, unit: c.unit, through: c.record.id, tx: c.tx, org: c.org)
        }
        let transition = try MeetingRecorder.apply(
            .close(by: person(member), at: c.now, transcript: lines), to: current,
            autoCloseSeconds: c.config.deliberation.autoCloseSeconds)
        guard let minutes = transition.minutes else { return }
        try finish(minutes, tx: c.tx, now: c.now)
        try c.reply(
            MeetingRecorder.summary(minutes, language: c.language, format: TimeFormat(timeZone: c.config.deliberation.timeZone))
                + link(c, unitID: c.unit.id, month: minutes.month, subtree: false))
    }

    /// Stores closed minutes, carries their actions and demands, logs the event.
    static func finish(_ minutes: Meeting, tx: any StoreTransaction, now: Date) throws {
        try tx.save(minutes)
        for item in minutes.items where item.kind == .action || item.kind == .demand {
            try tx.insert(
                FollowUp(
                    unitID: minutes.unitID, kind: item.kind == .action ? .action : .demand, text: item.text,
                    ownerName: item.owner?.name, taskID: item.taskID, demandRef: item.demandRef,
                    meetingID: minutes.id, createdAt: now))
        }
        try tx.append(
            EventRecord(
                at: now, kind: .deliberationMinutes, unitID: minutes.unitID,
                data: [
                    "meeting": String(minutes.id), "month": minutes.month, "auto": minutes.autoClosed ? "1" : "0",
                    "decisions": String(minutes.items(.agreed).count), "actions": String(minutes.items(.action).count),
                    "demands": String(minutes.items(.demand).count),
                ]))
    }

    static func meetingStatus(_ c: CommandContext) throws {
        try c.reply(
            DeliberationNotices.meetingStatus(
                try c.tx.openMeeting(unitID: c.unit.id),
                format: TimeFormat(timeZone: c.config.deliberation.timeZone), language: c.language))
    }

    /// The auto-close timer of a meeting left open.
    static func autoClose(_ t: TimerContext) throws {
        guard let id = Int(t.timer.subject) else { throw TimerPoison("meeting timer \(t.timer.key): subject \(t.timer.subject) is not a meeting number") }
        guard let meeting = try t.tx.meeting(id), meeting.isOpen, let unit = t.org.unit(meeting.unitID) else { return }
        let settings = t.config.deliberation
        let through = try unit.group.map { try t.tx.lastInboundID(platform: $0.platform, chat: $0.chat) } ?? 0
        let lines = try transcript(meeting, unit: unit, through: through, tx: t.tx, org: t.org)
        let transition = try MeetingRecorder.apply(.autoClose(id: id, at: t.now, transcript: lines), to: .open(meeting), autoCloseSeconds: settings.autoCloseSeconds)
        guard let minutes = transition.minutes else { return }
        try finish(minutes, tx: t.tx, now: t.now)
        guard let group = unit.group else { return }
        let lang = t.config.language
        let notice = lang.pick(
            "⏱ 议事 \(minutes.label) 超过\(DurationText.human(settings.autoCloseSeconds, language: .zh))未结束，已自动结束并保存纪要。\n",
            "⏱ Meeting \(minutes.label) was open for more than \(DurationText.human(settings.autoCloseSeconds, language: .en)) and has been closed automatically; the minutes are saved.\n")
        try t.tx.enqueue(
            OutboundMessage(
                key: "delib-meeting:\(id):autoclosed", unitID: unit.id, group: group,
                text: notice + MeetingRecorder.summary(minutes, language: lang, format: TimeFormat(timeZone: settings.timeZone))), at: t.now)
    }

    // MARK: Marks

    /// `/议题`, `/记录`, `/决议` inside an open meeting.
    static func mark(_ kind: MeetingItemKind, _ c: CommandContext) throws {
        let member = try c.requireMember()
        let item = MeetingItem(kind: kind, text: c.command.text, by: person(member), at: c.now)
        let meeting = try record(item, c)
        try c.reply(DeliberationNotices.marked(item, number: meeting.items(kind).count, language: c.language))
    }

    @discardableResult
    static func record(_ item: MeetingItem, _ c: CommandContext) throws -> Meeting {
        let transition = try MeetingRecorder.apply(.mark(item), to: try state(c), autoCloseSeconds: c.config.deliberation.autoCloseSeconds)
        guard case .open(let meeting) = transition.state else { throw Refusal(zh: "本群没有进行中的议事。", en: "No meeting is open here.") }
        try c.tx.save(meeting)
        return meeting
    }

    /// `/待办 [紧急] @人 … 内容`: an action item that becomes a task of the task loop in the owner's group.
    static func action(_ c: CommandContext) throws {
        let member = try c.requireMember()
        guard case .open(let meeting) = try state(c) else {
            throw Refusal(zh: "本群没有进行中的议事。请先发送 /议事 开始 主题。", en: "No meeting is open in this group. Send /meeting start <title> first.")
        }
        guard !c.command.targets.isEmpty else {
            throw Refusal(zh: "请用 @人 指定负责人，例如 /待办 @张三 周五前联系物业。", en: "Name the owner with @, e.g. /action @Zhang call the property manager by Friday.")
        }
        let owners = try c.command.targets.map { word throws(Refusal) -> Member in
            guard let owner = findMember(word, near: c.unit, org: c.org) else {
                throw Refusal(zh: "找不到成员“\(word)”。请写成员姓名或编号。", en: "No member called “\(word)”. Use the member's name or id.")
            }
            guard Permissions.mayOwnAction(owner, meetingUnitID: c.unit.id, org: c.org) else {
                let home = c.org.unit(owner.unitID)?.name ?? owner.unitID
                throw Refusal(
                    zh: "\(owner.name)是\(home)的成员，不在\(c.unit.name)及其下级单位，不能作为本群议事的待办负责人。",
                    en: "\(owner.name) belongs to \(home), outside \(c.unit.name) and the units below it, so they cannot own this meeting's action.")
            }
            return owner
        }
        let urgent = c.command.flags.contains("urgent")
        var created: [String] = []
        for owner in owners {
            guard let ownerUnit = c.org.unit(owner.unitID), let group = ownerUnit.group else {
                throw Refusal(zh: "\(owner.name)所在单位没有绑定群，无法派发待办。", en: "\(owner.name)'s unit has no group bound, so the action cannot be dispatched.")
            }
            var creation = TaskPolicy.dispatch(
                id: try c.tx.nextTaskID(), text: DeliberationNotices.actionTask(c.command.text, meetingLabel: meeting.label, ownerName: owner.name, language: c.language),
                urgent: urgent, targets: [ownerUnit], issuer: member, issuerUnit: c.unit, org: c.org, settings: c.settings,
                ackHint: c.engine.ackHint, now: c.now
            )
            for index in creation.notices.indices {
                creation.notices[index].mentions = TaskPolicy.mentions(of: [owner], platform: group.platform)
            }
            try c.seams.saveTask(creation, c)
            try record(MeetingItem(kind: .action, text: c.command.text, by: person(member), at: c.now, owner: person(owner), taskID: creation.task.id, urgent: urgent), c)
            created.append("\(creation.task.label) \(owner.name)")
        }
        try c.reply(
            DeliberationNotices.actionsDispatched(created, language: c.language),
            priority: urgent ? .urgent : .routine)
    }

    /// A member by id, name or platform id: this unit's members first, then below it, then anywhere.
    static func findMember(_ word: String, near unit: OrgUnit, org: OrgTree) -> Member? {
        if let member = org.member(word) { return member }
        if let platform = unit.group?.platform, let member = org.member(platform: platform, userID: word) { return member }
        return ([unit] + org.descendants(of: unit.id) + org.units).lazy.flatMap(\.members).first { $0.name == word }
    }

    // MARK: Demands (issue 5's /诉求 calls these)

    /// Records a resident's demand in the group's open meeting, if one is open.
    /// - Parameters:
    ///   - text: the demand as collected.
    ///   - demandRef: the demand registry's id (`D-3`), so closing the demand there closes it here.
    /// - Returns: true when a meeting was open and the demand is now in its minutes.
    @discardableResult
    public static func recordDemandIfMeetingOpen(_ c: CommandContext, text: String, demandRef: String? = nil) throws -> Bool {
        guard let member = c.member, case .open = try state(c) else { return false }
        try record(MeetingItem(kind: .demand, text: text, by: person(member), at: c.now, demandRef: demandRef), c)
        return true
    }

    // MARK: Minutes

    /// `/纪要 [单位] [月份]`: the minutes of a unit for a month, with coverage below a supervisor's unit.
    static func minutes(_ c: CommandContext) throws {
        _ = try c.requireMember()
        let settings = c.config.deliberation
        var unitWord = c.command.args["unit"]
        var monthWord = c.command.args["month"]
        if let word = unitWord, monthWord == nil, DeliberationMonth.parse(word, now: c.now, timeZone: settings.timeZone) != nil {
            monthWord = word
            unitWord = nil
        }
        let unit: OrgUnit
        if let word = unitWord {
            guard let found = c.org.unit(named: word) else {
                throw Refusal(zh: "找不到单位“\(word)”。", en: "No unit called “\(word)”.")
            }
            guard c.org.isInSubtree(found.id, of: c.unit.id) else {
                throw Refusal(zh: "“\(found.name)”不在本单位范围内。", en: "“\(found.name)” is outside your part of the tree.")
            }
            unit = found
        } else {
            unit = c.unit
        }
        let month: DeliberationMonth
        if let word = monthWord {
            guard let parsed = DeliberationMonth.parse(word, now: c.now, timeZone: settings.timeZone) else {
                throw Refusal(zh: "“\(word)”不是月份，请写成 2026-11 或 11月。", en: "“\(word)” is not a month; write it like 2026-11.")
            }
            month = parsed
        } else {
            month = DeliberationMonth(containing: c.now, timeZone: settings.timeZone)
        }
        let own = try c.tx.minutes(unitIDs: [unit.id], month: month.description)
        let below = c.org.descendants(of: unit.id).filter(settings.owesMinutes)
        let withMinutes = below.isEmpty ? [] : try c.tx.unitsWithMinutes(month: month.description)
        let text = DeliberationNotices.minutesSummary(
            unitName: unit.name, month: month, own: own, ownExpected: settings.owesMinutes(unit) || below.isEmpty,
            below: below, withMinutes: withMinutes, format: TimeFormat(timeZone: settings.timeZone), language: c.language)
        try c.reply(text + link(c, unitID: unit.id, month: month.description, subtree: !below.isEmpty))
    }

    // MARK: Links

    /// The key the minutes links are signed with (the same signer as the dashboard's links):
    /// `deliberation.link_secret`, else a random key kept in the store.
    public static func linkKey(_ config: BotConfig, tx: any StoreTransaction) throws -> String {
        try SignedLink.key(config, tx: tx)
    }

    /// A signed minutes link for `memberID`, valid `deliberation.link_ttl` from `now`.
    public static func linkPass(_ config: BotConfig, unitID: String, month: String, subtree: Bool, memberID: String?, now: Date, key: String) -> MinutesPass {
        MinutesPass.issue(
            unitID: unitID, month: month, subtree: subtree, memberID: memberID, now: now,
            ttl: config.deliberation.linkTTLSeconds, link: SignedLink(key: key))
    }

    /// `\n全文：<url>` when `server.public_url` is set, else nothing.
    static func link(_ c: CommandContext, unitID: String, month: String, subtree: Bool) throws -> String {
        guard let base = SignedLink.base(c.config) else { return "" }
        let pass = linkPass(c.config, unitID: unitID, month: month, subtree: subtree, memberID: c.member?.id, now: c.now, key: try linkKey(c.config, tx: c.tx))
        let url = base + pass.path
        // Who was handed which link: the views it leads to (`minutes.view`) carry the same short name.
        try c.tx.appendAudit(
            AuditEntry(
                at: c.now, actor: c.member?.id ?? "\(c.record.message.platform):\(c.record.message.sender)", unitID: unitID,
                action: "minutes.link", detail: "unit=\(unitID) month=\(month) subtree=\(subtree ? 1 : 0) \(pass.auditName)"))
        return DeliberationNotices.minutesLink(url, ttlSeconds: c.config.deliberation.linkTTLSeconds, language: c.language)
    }
}
