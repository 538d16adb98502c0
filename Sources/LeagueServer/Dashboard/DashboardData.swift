import Foundation
import LeagueConfig
import LeagueCore

/// A dashboard link's grant: which unit (and everything below it) it opens, for whom, until when.
public struct DashboardPass: Sendable, Hashable {
    public var scopeID: String
    public var memberID: String
    /// Unix seconds.
    public var expires: Int
    public var signature: String

    /// Issues a pass signed with `link`.
    public static func issue(scopeID: String, memberID: String, now: Date, ttl: Double, link: SignedLink) -> DashboardPass {
        let expires = Int((now.timeIntervalSince1970 + ttl).rounded(.down))
        return DashboardPass(
            scopeID: scopeID, memberID: memberID, expires: expires,
            signature: link.signature("dashboard", [scopeID, memberID], expires: expires))
    }

    /// The pass in a page's query (`s`, `m`, `e`, `sig`); nil when a field is missing.
    public static func from(query: [String: String]) -> DashboardPass? {
        guard let scope = query["s"], let member = query["m"], let expires = query["e"].flatMap(Int.init) else { return nil }
        return DashboardPass(scopeID: scope, memberID: member, expires: expires, signature: query["sig"] ?? "")
    }

    public func verdict(_ link: SignedLink, now: Date) -> SignedLink.Verdict {
        link.check(signature, "dashboard", [scopeID, memberID], expires: expires, now: now)
    }

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }

    /// The query carrying the pass.
    public var query: String { "s=\(Self.encode(scopeID))&m=\(Self.encode(memberID))&e=\(expires)&sig=\(signature)" }
}

/// Where the dashboard's pages live: `<prefix>/dashboard/<page>?<pass>&…`. The prefix is the path of
/// `server.public_url` (a reverse proxy may serve the bot below a path).
public struct DashboardPaths: Sendable {
    public var prefix: String
    public var pass: DashboardPass

    public init(prefix: String, pass: DashboardPass) {
        self.prefix = prefix
        self.pass = pass
    }

    /// The path prefix of `server.public_url` (`https://x.org/bot/` → `/bot`).
    public static func prefix(_ config: BotConfig) -> String {
        guard let base = SignedLink.base(config), let url = URL(string: base) else { return "" }
        var path = url.path
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// A page's address; `page` is `""` for the overview, or `task/12`, `assessment`, `minutes`, `demands`.
    public func href(_ page: String, _ params: [(String, String)] = []) -> String {
        var path = prefix + "/dashboard" + (page.isEmpty ? "" : "/" + page) + "?" + pass.query
        for (key, value) in params { path += "&\(key)=\(DashboardPass.encode(value))" }
        return path
    }
}

/// Fills the dashboard's page values from one read transaction. Everything here reads; nothing writes.
public struct DashboardData {
    public let config: BotConfig
    public let reader: any StoreReader
    public let paths: DashboardPaths
    public let now: Date
    /// The month figures kept between views (nil: every view counts the month's events afresh).
    public let figures: DashboardFigures?

    public init(config: BotConfig, reader: any StoreReader, paths: DashboardPaths, now: Date, figures: DashboardFigures? = nil) {
        self.config = config
        self.reader = reader
        self.paths = paths
        self.now = now
        self.figures = figures
    }

    var org: OrgTree { config.org }
    var language: Language { config.language }
    var format: TimeFormat { TimeFormat(timeZone: config.timeZone) }

    /// The frame of a page about `unit`.
    public func frame(title: String, unit: OrgUnit) -> DashboardFrame {
        let l = language
        let crumbs = org.lineage(of: unit.id).reversed().filter { org.isInSubtree($0.id, of: paths.pass.scopeID) }
            .map { DashboardLink($0.name, paths.href("", [("u", $0.id)])) }
        let nav = [
            DashboardLink(l.pick("概览", "Overview"), paths.href("", [("u", unit.id)])),
            DashboardLink(l.pick("考核", "Assessment"), paths.href("assessment", [("u", unit.id)])),
            DashboardLink(l.pick("议事纪要", "Minutes"), paths.href("minutes", [("u", unit.id)])),
            DashboardLink(l.pick("诉求", "Demands"), paths.href("demands", [("u", unit.id)])),
        ]
        let scopeName = org.unit(paths.pass.scopeID)?.name ?? paths.pass.scopeID
        return DashboardFrame(
            language: l, title: title, scopeName: scopeName, crumbs: crumbs.count > 1 ? crumbs : [], nav: nav,
            generated: format.dayAndClock(now), expires: format.dayAndClock(Date(timeIntervalSince1970: Double(paths.pass.expires))))
    }

    /// A month's counts over the whole tree, and the units with minutes that month (the one rule:
    /// a meeting of that month closed in chat, `unitsWithMinutes`).
    func month(_ month: String) throws -> (tally: AssessmentTally, minutes: Set<String>) {
        guard let range = RegistryScope.monthRange(month, timeZone: config.timeZone) else { return (AssessmentTally(org: org, scopeUnitID: nil), []) }
        let minutes = try reader.unitsWithMinutes(month: month)
        if let figures { return (try figures.month(month, range: range, org: org, reader: reader), minutes) }
        var tally = AssessmentTally(org: org, scopeUnitID: nil)
        tally.add(try reader.events(from: range.start, to: range.end))
        return (tally, minutes)
    }

    // MARK: Overview

    public func overview(_ unit: OrgUnit) throws -> OverviewPage {
        let month = format.month(now)
        let children = org.children(of: unit.id)
        // The children's rows, then the unit's own row (last); each sums its part of the tree.
        var rows = children.map { OverviewRow(unitID: $0.id, name: $0.name, tier: $0.tier, href: paths.href("", [("u", $0.id)])) }
        rows.append(OverviewRow(unitID: unit.id, name: unit.name, tier: unit.tier))
        let own = children.count
        // The rows each unit of the subtree counts for: the unit's own, and its child's.
        var bucket: [String: [Int]] = [unit.id: [own]]
        for (i, child) in children.enumerated() {
            bucket[child.id] = [own, i]
            for below in org.descendants(of: child.id) { bucket[below.id] = [own, i] }
        }
        // This month's dispatches received and acknowledged, per row.
        let (tally, minutes) = try self.month(month)
        var seconds = [[[Double]]](repeating: [], count: rows.count)
        for (unitID, indices) in bucket {
            guard let counts = tally.counts(unitID) else { continue }
            for i in indices {
                rows[i].assigned += counts.received
                rows[i].acknowledged += counts.acknowledged
                rows[i].onTime += counts.onTime
                seconds[i].append(counts.ackSeconds)
            }
        }
        var openTasks = [Set<Int>](repeating: [], count: rows.count)
        var byTask: [Int: (waiting: Int, overdue: Int)] = [:]
        for target in try reader.waitingTargets() {
            guard let indices = bucket[target.unitID] else { continue }
            let overdue = target.deadline <= now
            byTask[target.taskID, default: (0, 0)].waiting += 1
            if overdue { byTask[target.taskID, default: (0, 0)].overdue += 1 }
            for i in indices {
                openTasks[i].insert(target.taskID)
                if overdue { rows[i].overdueNow += 1 }
            }
        }
        let settings = config.registry.assessment
        for i in rows.indices {
            rows[i].medianAckSeconds = Self.median(of: seconds[i])
            rows[i].openTasks = openTasks[i].count
            rows[i].grade = tally.figures(rows[i].unitID, minutesUnitIDs: minutes, settings: settings)?.grade
        }

        var tasks: [OpenTaskRow] = []
        for taskID in byTask.keys.sorted(by: >).prefix(30) {
            guard let task = try reader.task(taskID), let counts = byTask[taskID] else { continue }
            let total = try reader.targets(ofTask: taskID).filter { bucket[$0.unitID] != nil }.count
            tasks.append(
                OpenTaskRow(
                    label: task.label, text: task.text, urgent: task.urgent, waiting: counts.waiting, total: total,
                    overdue: counts.overdue, href: paths.href("task/\(taskID)")))
        }
        let ownRow = rows.removeLast()
        return OverviewPage(unitName: unit.name, month: month, own: ownRow, children: rows, openTasks: tasks)
    }

    /// `Assessment.median` of every value in the lists, without merging and sorting them: times to
    /// acknowledge are whole seconds, so they are counted (anything else is sorted). The district's
    /// own row holds every acknowledgement of the month, ≈ 270,000 for 30,000 tasks.
    public static func median(of lists: [[Double]]) -> Double? {
        var count = 0
        var top = 0
        for list in lists {
            for value in list {
                guard value >= 0, value < 1_048_576, value == value.rounded(.down) else {
                    return Assessment.median(lists.flatMap { $0 }.sorted())
                }
                top = max(top, Int(value))
            }
            count += list.count
        }
        guard count > 0 else { return nil }
        var counts = [Int](repeating: 0, count: top + 1)
        for list in lists {
            for value in list { counts[Int(value)] += 1 }
        }
        /// The k-th smallest value (from 0).
        func value(at k: Int) -> Double {
            var seen = 0
            for (value, n) in counts.enumerated() {
                seen += n
                if seen > k { return Double(value) }
            }
            return Double(top)
        }
        return count % 2 == 1 ? value(at: count / 2) : (value(at: count / 2 - 1) + value(at: count / 2)) / 2
    }

    // MARK: Roll call

    /// The roll call of a task, or nil when the task is not there or lies wholly outside the link's part of the tree.
    public func rollCall(_ taskID: Int, eventsHref: Bool = true) throws -> RollCallPage? {
        guard let task = try reader.task(taskID) else { return nil }
        let scope = paths.pass.scopeID
        let targets = try reader.targets(ofTask: taskID)
        let visible = targets.filter { org.isInSubtree($0.unitID, of: scope) }
        guard org.isInSubtree(task.issuerUnitID, of: scope) || !visible.isEmpty else { return nil }
        let steps = try reader.escalations(ofTask: taskID)
        var stepsByUnit: [String: [Int]] = [:]
        for record in steps where record.step >= 1 {
            for unitID in record.lateUnitIDs { stepsByUnit[unitID, default: []].append(record.step) }
        }
        let rows = visible.map { target in
            RollCallRow(
                unitID: target.unitID, name: org.unit(target.unitID)?.name ?? target.unitID,
                state: RollCallState.of(target, task: task, now: now),
                ackSeconds: target.acknowledgedAt.map { $0.timeIntervalSince(task.createdAt) },
                ackBy: target.acknowledgedBy.map { org.member($0)?.name ?? $0 }, steps: stepsByUnit[target.unitID] ?? [])
        }
        let visibleIDs = Set(visible.map(\.unitID))
        let stepRows = steps.map { record in
            RollCallStep(
                step: record.step, offset: record.at.timeIntervalSince(task.createdAt), at: format.clock(record.at),
                told: record.notifiedUnitIDs.filter { org.isInSubtree($0, of: scope) }.map { org.unit($0)?.name ?? $0 },
                late: record.lateUnitIDs.filter(visibleIDs.contains).count)
        }
        let issuerUnit = org.unit(task.issuerUnitID)?.name ?? task.issuerUnitID
        return RollCallPage(
            label: task.label, text: task.text, urgent: task.urgent, isReport: task.kind == .report,
            issuer: "\(issuerUnit) \(task.issuerName)", created: format.dayAndClock(task.createdAt), deadline: format.clock(task.deadline),
            status: task.status, targetSeconds: task.targetSeconds, elapsed: now.timeIntervalSince(task.createdAt),
            rows: rows, steps: stepRows, hiddenTargets: targets.count - visible.count,
            eventsHref: eventsHref && task.status == .open ? paths.href("task/\(taskID)/events") : nil)
    }

    // MARK: Assessment

    /// The months ending with `month`, oldest first.
    static func months(ending month: String, count: Int) -> [String] {
        guard let last = DeliberationMonth(text: month) else { return [month] }
        return (0..<count).reversed().map { DeliberationMonth(year: last.year, month: last.month - $0).description }
    }

    public func assessment(_ unit: OrgUnit, month: String) throws -> AssessmentPage {
        let settings = config.registry.assessment
        let ids = [unit.id] + org.children(of: unit.id).map(\.id)
        let months = Self.months(ending: month, count: 6)
        var trend: [String: [Double?]] = [:]
        var figures: [UnitFigures] = []
        for m in months {
            let (tally, minutes) = try self.month(m)
            for id in ids {
                let unitFigures = tally.figures(id, minutesUnitIDs: minutes, settings: settings)
                trend[id, default: []].append(unitFigures?.onTimeShare)
                if m == month, let unitFigures { figures.append(unitFigures) }
            }
        }
        let hrefs = Dictionary(uniqueKeysWithValues: org.children(of: unit.id).map { ($0.id, paths.href("assessment", [("u", $0.id), ("month", month)])) })
        let previous = months.count > 1 ? months[months.count - 2] : nil
        let following = DeliberationMonth(text: month)?.next.description ?? month
        let next: String? = following <= format.month(now) ? following : nil
        return AssessmentPage(
            unitName: unit.name, month: month, units: figures, hrefs: hrefs, green: settings.green, yellow: settings.yellow, months: months, trend: trend,
            csvHref: paths.href("assessment.csv", [("u", unit.id), ("month", month)]),
            previous: previous.map { DashboardLink("‹ \($0)", paths.href("assessment", [("u", unit.id), ("month", $0)])) },
            next: next.map { DashboardLink("\($0) ›", paths.href("assessment", [("u", unit.id), ("month", $0)])) })
    }

    /// The month's whole report of the unit's subtree (the CSV download).
    public func assessmentReport(_ unit: OrgUnit, month: String) throws -> AssessmentReport {
        let (tally, minutes) = try self.month(month)
        return tally.report(scopeUnitID: unit.id, minutesUnitIDs: minutes, month: month, settings: config.registry.assessment)
    }

    // MARK: Deliberation

    public func deliberation(_ unit: OrgUnit, month: String, minutesKey: String?) throws -> DeliberationPage {
        let minutes = try self.month(month).minutes
        // A minutes link opened from the dashboard works no longer than the dashboard link it came from.
        let ttl = min(config.deliberation.linkTTLSeconds, Double(paths.pass.expires) - now.timeIntervalSince1970)
        func row(_ node: OrgUnit, drill: Bool) -> MinutesRow {
            let below = org.descendants(of: node.id)
            // The one rule (/纪要, /查询 纪要): the units of the deliberation tiers owe minutes.
            let owing = config.deliberation.unitsOwingMinutes(in: org, under: node.id)
            let with = owing.filter { minutes.contains($0.id) }.count
            let any = with > 0 || minutes.contains(node.id)
            let minutesHref =
                any
                ? minutesKey.map { key in
                    paths.prefix
                        + MinutesPass.issue(
                            unitID: node.id, month: month, subtree: !below.isEmpty, memberID: paths.pass.memberID, now: now,
                            ttl: ttl, link: SignedLink(key: key)
                        ).path
                } : nil
            return MinutesRow(
                name: node.name, tier: node.tier, href: drill && !below.isEmpty ? paths.href("minutes", [("u", node.id), ("month", month)]) : nil,
                minutesHref: minutesHref, withMinutes: with, owing: owing.count)
        }
        let previous = Self.months(ending: month, count: 2).first
        return DeliberationPage(
            unitName: unit.name, month: month, own: row(unit, drill: false),
            rows: org.children(of: unit.id).map { row($0, drill: true) },
            previous: previous.map { DashboardLink("‹ \($0)", paths.href("minutes", [("u", unit.id), ("month", $0)])) })
    }

    // MARK: Demands

    public func demands(_ unit: OrgUnit) throws -> DemandsPage {
        let ids = Set(([unit] + org.descendants(of: unit.id)).map(\.id))
        let all = try reader.demands(unitIDs: ids, state: nil)
        var byState: [DemandState: Int] = [:]
        var byCategory: [String: Int] = [:]
        for demand in all {
            byState[demand.state, default: 0] += 1
            byCategory[demand.category ?? "—", default: 0] += 1
        }
        let limits = config.registry.demandLimits
        let open = all.filter(\.state.isOpen).sorted { $0.createdAt < $1.createdAt }
        let overdue = open.filter { DemandRow.isOverdue($0, limits: limits, now: now) }.count
        let rows = open.prefix(20).map { demand in
            DemandRow(
                label: demand.label, category: demand.category, state: demand.state,
                age: DurationText.human(now.timeIntervalSince(demand.createdAt), language: language),
                holder: org.unit(demand.holderUnitID)?.name ?? demand.holderUnitID,
                overdue: DemandRow.isOverdue(demand, limits: limits, now: now))
        }
        let categories = byCategory.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        return DemandsPage(unitName: unit.name, byState: byState, byCategory: categories, overdue: overdue, oldestOpen: Array(rows))
    }
}
