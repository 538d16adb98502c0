import Foundation
import LeagueConfig
import LeagueCore

/// Youth registry queries, demands, the monthly assessment: /诉求, /查询 and the demand escalation timer.
enum RegistryFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
        commands["demand"] = demand
        commands["query"] = query
        timers[.demandStep] = escalate
    }

    static func settings(_ c: CommandContext) -> RegistrySettings { c.config.registry }

    // MARK: /诉求

    /// `/诉求 内容 [#类别]`, `/诉求 发布|认领|进展|解决|关闭 D-n …`, `/诉求 列表 [状态]`
    static func demand(_ c: CommandContext) throws {
        let member = try c.requireMember()
        switch c.command.sub ?? "register" {
        case "list": return try listDemands(c, member)
        case "register": return try registerDemand(c, member)
        default: break
        }
        guard let id = c.command.ref("D") else { throw Refusal(zh: "请写明诉求编号，例如 D-3。", en: "Give the demand number, e.g. D-3.") }
        guard let demand = try c.tx.demand(id) else { throw Refusal(zh: "没有找到诉求 D-\(id)。", en: "There is no demand D-\(id).") }
        try RegistryScope.check(member, unitID: demand.unitID, org: c.org)
        let action: DemandPolicy.Action
        switch c.command.sub {
        case "publish":
            let roles = settings(c).permissions.publishDemand
            guard roles.contains(where: member.has) else { throw Refusal.needsRole("发布诉求", "publish demands", roles) }
            guard let parent = c.org.unit(demand.unitID)?.parentID else {
                throw Refusal(zh: "\(demand.label) 已在最高一级，无法再向上发布。", en: "\(demand.label) is at the top of the tree; there is no tier above to publish to.")
            }
            action = .publish(to: parent)
        case "claim":
            guard member.has(.cadre) || member.has(.admin) else {
                throw Refusal.notAllowed("认领诉求（团干部或管理员可以）", "claim demands (cadres and admins can)")
            }
            action = .claim(memberID: member.id, unitID: member.unitID)
        case "progress":
            action = .progress(c.command.text)
        case "resolve":
            action = .resolve(c.command.text)
        case "close":
            guard member.has(.admin) || member.id == demand.createdBy else {
                throw Refusal.notAllowed("关闭 \(demand.label)（登记人或管理员可以）", "close \(demand.label) (the person who registered it or an admin can)")
            }
            action = .close(reason: c.command.text)
        default:
            throw Refusal(zh: "不认识的诉求操作。", en: "Unknown demand action.")
        }
        let transition = try DemandPolicy.apply(action, to: demand, settings: settings(c), now: c.now)
        let next = transition.demand
        try c.tx.update(next)
        if let timer = transition.timer { try c.tx.schedule(timer) }
        var data = ["demand": String(id), "state": next.state.rawValue]
        switch action {
        case .publish:
            let text = RegistryTexts.publishedNotice(next, from: c.org.unit(demand.unitID)?.name ?? demand.unitID, language: c.language)
            try c.tell(next.publishedTo ?? "", key: "demand:\(id):v\(next.version):published", text: text)
            data["to"] = next.publishedTo
        case .resolve:
            _ = try c.seams.demandSettled(c.tx, next.label, c.now)
        case .close:
            _ = try c.seams.demandSettled(c.tx, next.label, c.now)
            data["reason"] = next.note
        case .claim, .progress:
            break
        }
        // The collecting unit's group hears of a change made elsewhere.
        if let notice = RegistryTexts.originNotice(action, next, by: member.name, of: c.unit.name, language: c.language), next.unitID != c.unit.id {
            try c.tell(next.unitID, key: "demand:\(next.id):v\(next.version):origin", text: notice)
        }
        try c.reply(RegistryTexts.applied(action, next, to: c.org.unit(next.publishedTo ?? "")?.name, language: c.language))
        try c.log(action.eventKind, unitID: demand.unitID, data: data)
    }

    static func registerDemand(_ c: CommandContext, _ member: Member) throws {
        let text = c.command.text
        guard !text.isEmpty else { throw Refusal(zh: "请写明诉求内容：/诉求 内容 [#类别]", en: "Write the demand: /demand text [#category]") }
        // A minor's name must not be written into a group: refuse a text naming someone in the registry below.
        let grids = Set(([c.unit] + c.org.descendants(of: c.unit.id)).map(\.id))
        let names = Set(try c.tx.youthRows(gridIDs: grids).map(\.name).filter { $0.count >= 2 })
        if names.contains(where: { text.contains($0) }) {
            throw Refusal(
                zh: "诉求内容中含有青少年登记名单里的姓名。为保护未成年人隐私，请不要在群里写姓名，改用“网格内一名14-17岁青少年”等描述后重新登记。",
                en:
                    "The demand names someone from the youth registry. To protect minors, do not write names in the group; describe the person instead (e.g. “a 14-17 year old in this grid”) and register it again."
            )
        }
        let id = try c.tx.nextDemandID()
        let transition = DemandPolicy.register(id: id, unitID: c.unit.id, text: text, by: member.id, settings: settings(c), now: c.now)
        let demand = transition.demand
        guard !demand.text.isEmpty else { throw Refusal(zh: "请写明诉求内容，不只是类别。", en: "Write the demand itself, not only its category.") }
        try c.tx.insert(demand)
        if let timer = transition.timer { try c.tx.schedule(timer) }
        try c.log(.demandCreated, unitID: c.unit.id, data: ["demand": String(id), "category": demand.category ?? "", "source": demand.source])
        // During an open deliberation meeting the demand also goes into the minutes.
        let inMinutes = try c.seams.noteDemandInOpenMeeting(c, text, demand.label)
        try c.reply(RegistryTexts.registered(demand, inMinutes: inMinutes, language: c.language))
    }

    static func listDemands(_ c: CommandContext, _ member: Member) throws {
        try RegistryScope.check(member, unitID: c.unit.id, org: c.org)
        var state: DemandState?
        if let word = c.command.args["state"] {
            guard let value = DemandState(word: word) else {
                throw Refusal(
                    zh: "不认识的状态“\(word)”（可用：已收集、已发布、已认领、办理中、已解决、已关闭）。",
                    en: "Unknown state “\(word)” (collected, published, claimed, in_progress, resolved, closed).")
            }
            state = value
        }
        let units = Set(([c.unit] + c.org.descendants(of: c.unit.id)).map(\.id))
        let list = try c.tx.demands(unitIDs: units, state: state)
        try c.reply(RegistryText.demands(unitName: c.unit.name, demands: list, state: state, now: c.now, link: nil, language: c.language))
    }

    // MARK: /查询

    /// The words after the query's subject: a unit, a month, a demand state.
    struct QueryWords {
        var unit: OrgUnit?
        var month: String?
        var state: DemandState?
    }

    /// What `/查询` is about.
    enum QuerySubject: String {
        case youth, demands, tasks, assessment, minutes, bindings
    }

    static func queryWords(_ c: CommandContext, subject: QuerySubject) throws(Refusal) -> QueryWords {
        var words = QueryWords()
        for key in ["first", "second"] {
            guard let word = c.command.args[key] else { continue }
            if let month = DeliberationMonth.parse(word, now: c.now, timeZone: c.config.timeZone) {
                words.month = month.description
            } else if subject == .demands, let state = DemandState(word: word) {
                words.state = state
            } else if let unit = c.org.unit(named: word) {
                words.unit = unit
            } else {
                throw Refusal(zh: "没有找到单位“\(word)”（可写单位编号或名称）。", en: "No unit “\(word)” (write a unit id or name).")
            }
        }
        return words
    }

    /// `/查询 青少年|诉求|任务|考核|纪要 [单位] [状态|月份]` — every query, allowed or refused, goes to the audit log.
    static func query(_ c: CommandContext) throws {
        let sub = c.command.sub ?? QuerySubject.youth.rawValue
        let actor = c.member?.id ?? "unregistered:\(c.record.message.platform):\(c.record.message.sender)"
        let detail = [c.command.args["first"], c.command.args["second"]].compactMap { $0 }.joined(separator: " ")
        func audit(_ text: String, outcome: String = "allowed") throws {
            try c.tx.appendAudit(AuditEntry(at: c.now, actor: actor, unitID: c.unit.id, action: "query.\(sub)", detail: text, outcome: outcome))
        }
        do {
            let member = try c.requireMember()
            guard let subject = QuerySubject(rawValue: sub) else { throw Refusal(zh: "不认识的查询。", en: "Unknown query.") }
            let words = try queryWords(c, subject: subject)
            let target = words.unit ?? c.unit
            try RegistryScope.check(member, unitID: target.id, org: c.org)
            // The answer is posted in this group: only this unit's own part of the tree may be shown here.
            guard c.org.isInSubtree(target.id, of: c.unit.id) else {
                throw Refusal(
                    zh: "本群只能查看\(c.unit.name)及其下级的数据；请到\(target.name)或其上级的群里查询。",
                    en: "This group may only see \(c.unit.name) and the units below it; ask in the group of \(target.name) or above.")
            }
            if subject == .assessment {
                let roles = settings(c).permissions.assessment
                guard roles.contains(where: member.has) else { throw Refusal.needsRole("查看考核", "read the assessment", roles) }
            }
            let month = words.month ?? TimeFormat(timeZone: c.config.timeZone).month(c.now)
            let text: String
            switch subject {
            case .youth: text = try youthAnswer(c, target)
            case .demands: text = try demandsAnswer(c, target, words.state)
            case .tasks: text = try tasksAnswer(c, target)
            case .assessment: text = try assessmentAnswer(c, target, month)
            case .minutes: text = try minutesAnswer(c, target, month)
            // Onboarding (issue 13): groups bound and members registered below, aggregates only.
            case .bindings: text = OnboardingStatus.compute(c.org, root: target.id).chatText(unitName: target.name, language: c.language)
            }
            try audit("unit=\(target.id)\(detail.isEmpty ? "" : " args=\(detail)")")
            try c.reply(text + dashboardLine(c, subject: subject, unitID: target.id, month: month))
        } catch let refusal as Refusal {
            try audit(detail.isEmpty ? "unit=\(c.unit.id)" : "args=\(detail)", outcome: "refused")
            try c.reply(refusal.text(c.language), mentionSender: true)
        }
    }

    static func subtree(_ c: CommandContext, _ unit: OrgUnit) -> [OrgUnit] { [unit] + c.org.descendants(of: unit.id) }

    static func youthAnswer(_ c: CommandContext, _ target: OrgUnit) throws -> String {
        let ids = Set(subtree(c, target).map(\.id))
        let perGrid = try c.tx.youthCounts(gridIDs: ids)
        var total = YouthCounts()
        for counts in perGrid.values { total.add(counts) }
        return RegistryText.youth(
            unitName: target.name, counts: total, grids: perGrid.count, minimum: settings(c).permissions.minimumCount,
            link: nil, language: c.language)
    }

    static func demandsAnswer(_ c: CommandContext, _ target: OrgUnit, _ state: DemandState?) throws -> String {
        let ids = Set(subtree(c, target).map(\.id))
        return RegistryText.demands(
            unitName: target.name, demands: try c.tx.demands(unitIDs: ids, state: state), state: state,
            now: c.now, link: nil, language: c.language)
    }

    /// Open tasks of the unit, and this month's acknowledgements of its subtree (late ones, breaches, still waiting).
    static func tasksAnswer(_ c: CommandContext, _ target: OrgUnit) throws -> String {
        let ids = Set(subtree(c, target).map(\.id))
        let format = TimeFormat(timeZone: c.config.timeZone)
        guard let range = RegistryScope.monthRange(format.month(c.now), timeZone: c.config.timeZone) else { return "" }
        var assigned = 0, acked = 0, late = 0
        var breached: Set<String> = []
        for event in try c.tx.events(from: range.start, to: c.now.addingTimeInterval(1)) {
            guard let unit = event.unitID, ids.contains(unit) else { continue }
            switch event.kind {
            case .targetAssigned where event.data["kind"] != "report": assigned += 1
            case .taskAck:
                acked += 1
                if event.data["late"] == "1" { late += 1 }
            case .taskBreach: breached.insert("\(event.taskID ?? 0):\(unit)")
            default: break
            }
        }
        let open = try c.tx.openTasks(involving: target.id, limit: 10).map { task in
            let targets = try c.tx.targets(ofTask: task.id)
            return (task: task, waiting: targets.filter(\.isWaiting).count, targets: targets.count)
        }
        return RegistryTexts.tasksAnswer(
            unitName: target.name, assigned: assigned, acknowledged: acked, late: late, breaches: breached.count,
            open: open, language: c.language)
    }

    /// The dashboard line of a /查询 answer: the page showing the same figures (none for youth counts).
    static func dashboardLine(_ c: CommandContext, subject: QuerySubject, unitID: String, month: String) -> String {
        switch subject {
        case .tasks: return c.seams.dashboardLine(c, "", [("u", unitID)])
        case .assessment: return c.seams.dashboardLine(c, "assessment", [("u", unitID), ("month", month)])
        case .minutes: return c.seams.dashboardLine(c, "minutes", [("u", unitID), ("month", month)])
        case .demands: return c.seams.dashboardLine(c, "demands", [("u", unitID)])
        case .youth, .bindings: return ""
        }
    }

    static func assessmentAnswer(_ c: CommandContext, _ target: OrgUnit, _ month: String) throws -> String {
        guard let range = RegistryScope.monthRange(month, timeZone: c.config.timeZone) else { throw Refusal(zh: "月份格式不对。", en: "Bad month.") }
        let events = try c.tx.events(from: range.start, to: range.end)
        let minutes = try c.tx.unitsWithMinutes(month: month)
        let report = Assessment.compute(
            events: events, org: c.org, scopeUnitID: target.id, minutesUnitIDs: minutes, month: month,
            settings: settings(c).assessment)
        return report.chat(org: c.org, language: c.language, link: nil)
    }

    static func minutesAnswer(_ c: CommandContext, _ target: OrgUnit, _ month: String) throws -> String {
        guard RegistryScope.monthRange(month, timeZone: c.config.timeZone) != nil else { throw Refusal(zh: "月份格式不对。", en: "Bad month.") }
        let minutes = try c.tx.unitsWithMinutes(month: month)
        // The same rule as /纪要 and the dashboard: the units of the deliberation tiers owe minutes.
        let owing = c.config.deliberation.unitsOwingMinutes(in: c.org, under: target.id)
        return RegistryTexts.minutesAnswer(
            unitName: target.name, month: month, owing: owing, withMinutes: minutes,
            alone: owing.isEmpty || owing.map(\.id) == [target.id], language: c.language)
    }

    // MARK: Timer

    /// A demand waited too long in one state.
    static func escalate(_ t: TimerContext) throws {
        guard let subject = DemandPolicy.subject(of: t.timer) else { throw TimerPoison("demand timer \(t.timer.key): subject \(t.timer.subject) does not decode") }
        guard let demand = try t.tx.demand(subject.id) else { return }
        let result = DemandPolicy.escalate(demand, timer: t.timer, org: t.org, settings: t.config.registry, language: t.config.language, now: t.now)
        for notice in result.notices { try t.tx.enqueue(notice, at: t.now) }
        if let next = result.next { try t.tx.schedule(next) }
        if result.becameOverdue {
            try t.tx.append(
                EventRecord(
                    at: t.now, kind: .demandOverdue, unitID: demand.unitID,
                    data: ["demand": String(demand.id), "state": demand.state.rawValue, "holder": demand.holderUnitID]))
        }
    }
}
