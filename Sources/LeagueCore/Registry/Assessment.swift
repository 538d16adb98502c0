import Foundation

/// Red, yellow or green, as in the 12345 / 接诉即办 warnings.
public enum Grade: String, Sendable, Codable, Hashable, CaseIterable {
    case green, yellow, red

    public func name(_ language: Language) -> String {
        switch self {
        case .green: return language.pick("🟢绿", "🟢 green")
        case .yellow: return language.pick("🟡黄", "🟡 yellow")
        case .red: return language.pick("🔴红", "🔴 red")
        }
    }
}

/// One unit's figures for a month.
public struct UnitFigures: Sendable, Hashable {
    public var unitID: String
    public var name: String
    public var tier: String
    /// Dispatched tasks this unit had to acknowledge.
    public var tasksReceived = 0
    public var acknowledged = 0
    public var acknowledgedOnTime = 0
    public var medianAckSeconds: Double?
    public var p90AckSeconds: Double?
    /// Distinct tasks on which this unit was reported late to its supervisors.
    public var breaches = 0
    /// Upward reports addressed to this unit.
    public var reportsReceived = 0
    /// Reports this unit's members claimed within target.
    public var reportsClaimedOnTime = 0
    public var reportsClaimed = 0
    public var minutesHeld = false
    public var demandsCollected = 0
    public var demandsResolved = 0
    public var demandsOverdue = 0
    public var grade: Grade = .green

    public init(unitID: String, name: String, tier: String) {
        self.unitID = unitID
        self.name = name
        self.tier = tier
    }

    /// The share of received tasks acknowledged within target; nil when nothing was received.
    public var onTimeShare: Double? { tasksReceived == 0 ? nil : Double(acknowledgedOnTime) / Double(tasksReceived) }
}

/// One cadre's figures for a month.
public struct CadreFigures: Sendable, Hashable {
    public var memberID: String
    public var name: String
    public var unitID: String
    public var acknowledgements = 0
    public var acknowledgementsOnTime = 0
    public var claims = 0
    public var resolutions = 0
    /// The ranking score: on-time acknowledgements + claims + resolutions.
    public var score: Int { acknowledgementsOnTime + claims + resolutions }
}

/// The monthly assessment of a unit's subtree, computed from the event log.
public struct AssessmentReport: Sendable, Hashable {
    public var month: String
    public var scopeUnitID: String
    public var units: [UnitFigures]
    /// Unit ids of each tier, best first.
    public var ranking: [String: [String]]
    /// 示范网格团组织 candidates per tier (green units at the top of the ranking).
    public var unitCandidates: [String: [String]]
    /// Cadres, best first.
    public var cadres: [CadreFigures]
    /// 最美网格团干部 candidates (member ids).
    public var cadreCandidates: [String]
    public var settings: RegistrySettings.Assessment
    public var tiers: [String]

    public func unit(_ id: String) -> UnitFigures? { units.first { $0.unitID == id } }
}

/// Computes and renders the monthly assessment. One pass over the events, dictionaries only.
public enum Assessment {
    /// - Parameters:
    ///   - events: the month's events (any order; other kinds are ignored).
    ///   - org: the tree.
    ///   - scopeUnitID: the unit whose subtree is assessed (nil: the root).
    ///   - minutesUnitIDs: units with deliberation-day minutes this month.
    ///   - month: `YYYY-MM`, for the title.
    public static func compute(events: [EventRecord], org: OrgTree, scopeUnitID: String?, minutesUnitIDs: Set<String>, month: String, settings: RegistrySettings.Assessment) -> AssessmentReport {
        var tally = AssessmentTally(org: org, scopeUnitID: scopeUnitID)
        tally.add(events)
        return tally.report(scopeUnitID: scopeUnitID, minutesUnitIDs: minutesUnitIDs, month: month, settings: settings)
    }

    /// The grade rule (written under every table by `rules`).
    public static func grade(_ f: UnitFigures, isGrid: Bool, settings: RegistrySettings.Assessment) -> Grade {
        let share = f.onTimeShare ?? 1
        if share < settings.yellow { return .red }
        let green =
            share >= settings.green && f.breaches <= settings.maxBreachesGreen && f.demandsOverdue == 0
            && (!settings.requireMinutes || !isGrid || f.minutesHeld)
        return green ? .green : .yellow
    }

    /// Ranking rule: on-time share (units that received nothing last), then fewer breaches, then faster
    /// median acknowledgement, then more demands resolved, then id.
    static func ranksBefore(_ a: UnitFigures, _ b: UnitFigures) -> Bool {
        let sa = a.onTimeShare ?? -1, sb = b.onTimeShare ?? -1
        if sa != sb { return sa > sb }
        if a.breaches != b.breaches { return a.breaches < b.breaches }
        let ma = a.medianAckSeconds ?? .infinity, mb = b.medianAckSeconds ?? .infinity
        if ma != mb { return ma < mb }
        if a.demandsResolved != b.demandsResolved { return a.demandsResolved > b.demandsResolved }
        return a.unitID < b.unitID
    }

    /// The median of sorted values (the mean of the middle two for an even count).
    public static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// The nearest-rank percentile of sorted values: the smallest value with at least `p` of the values at or below it.
    public static func nearestRank(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// The running counts behind a month's assessment: events go in (in any number of calls, e.g. only
/// those appended since the last look), a report of the whole scope or of any subtree inside it comes
/// out. `Assessment.compute` is one `add` and one `report`; the dashboard keeps one tally per month
/// and adds only new events to it.
public struct AssessmentTally: Sendable {
    public let org: OrgTree
    public let scopeID: String
    /// The scope's units, the scope first, then its descendants (the report's order).
    let units: [OrgUnit]
    let index: [String: Int]
    var figures: [UnitFigures]
    var ackSeconds: [[Double]]
    var breaches: [Set<Int>]
    var overdue: [Set<String>]
    var cadres: [String: CadreFigures] = [:]

    /// An empty tally of `scopeUnitID`'s subtree (nil: the root's, the whole tree).
    public init(org: OrgTree, scopeUnitID: String?) {
        self.org = org
        scopeID = scopeUnitID ?? org.rootID ?? ""
        var scope: [OrgUnit] = org.unit(scopeID).map { [$0] } ?? []
        scope += org.descendants(of: scopeID)
        units = scope
        var index: [String: Int] = [:]
        index.reserveCapacity(scope.count)
        for (i, unit) in scope.enumerated() { index[unit.id] = i }
        self.index = index
        figures = scope.map { UnitFigures(unitID: $0.id, name: $0.name, tier: $0.tier) }
        ackSeconds = [[Double]](repeating: [], count: scope.count)
        breaches = [Set<Int>](repeating: [], count: scope.count)
        overdue = [Set<String>](repeating: [], count: scope.count)
    }

    /// Counts events (other kinds, and units outside the scope, are ignored).
    public mutating func add(_ events: some Sequence<EventRecord>) {
        for event in events {
            guard let unitID = event.unitID, let i = index[unitID] else { continue }
            switch event.kind {
            case .targetAssigned:
                if event.data["kind"] == "report" { figures[i].reportsReceived += 1 } else { figures[i].tasksReceived += 1 }
            case .taskAck:
                let onTime = event.data["late"] == "0"
                figures[i].acknowledged += 1
                if onTime { figures[i].acknowledgedOnTime += 1 }
                if let seconds = event.data["seconds"].flatMap(Double.init) { ackSeconds[i].append(seconds) }
                cadre(event.memberID) {
                    $0.acknowledgements += 1
                    if onTime { $0.acknowledgementsOnTime += 1 }
                }
            case .reportClaimed:
                figures[i].reportsClaimed += 1
                if event.data["late"] == "0" { figures[i].reportsClaimedOnTime += 1 }
                cadre(event.memberID) { $0.claims += 1 }
            case .taskBreach:
                if let task = event.taskID { breaches[i].insert(task) }
            case .demandCreated:
                figures[i].demandsCollected += 1
            case .demandResolved:
                figures[i].demandsResolved += 1
                cadre(event.memberID) { $0.resolutions += 1 }
            case .demandOverdue:
                overdue[i].insert(event.data["demand"] ?? "\(event.at.timeIntervalSince1970)")
            default:
                continue
            }
        }
    }

    private mutating func cadre(_ memberID: String?, _ update: (inout CadreFigures) -> Void) {
        guard let memberID, let member = org.member(memberID), index[member.unitID] != nil else { return }
        if cadres[memberID] == nil { cadres[memberID] = CadreFigures(memberID: memberID, name: member.name, unitID: member.unitID) }
        update(&cadres[memberID]!)
    }

    /// The raw counts of one unit: dispatches received, acknowledged, acknowledged on time, and every
    /// time to acknowledge in seconds (unsorted). Nil for a unit outside the scope.
    public func counts(_ unitID: String) -> (received: Int, acknowledged: Int, onTime: Int, ackSeconds: [Double])? {
        guard let i = index[unitID] else { return nil }
        return (figures[i].tasksReceived, figures[i].acknowledged, figures[i].acknowledgedOnTime, ackSeconds[i])
    }

    /// One unit's finished figures (medians, breaches, grade); nil for a unit outside the scope.
    public func figures(_ unitID: String, minutesUnitIDs: Set<String>, settings: RegistrySettings.Assessment) -> UnitFigures? {
        index[unitID].map { finished($0, minutesUnitIDs: minutesUnitIDs, settings: settings) }
    }

    func finished(_ i: Int, minutesUnitIDs: Set<String>, settings: RegistrySettings.Assessment) -> UnitFigures {
        var f = figures[i]
        f.breaches = breaches[i].count
        f.demandsOverdue = overdue[i].count
        f.minutesHeld = minutesUnitIDs.contains(f.unitID)
        if !ackSeconds[i].isEmpty {
            let sorted = ackSeconds[i].sorted()
            f.medianAckSeconds = Assessment.median(sorted)
            f.p90AckSeconds = Assessment.nearestRank(sorted, 0.9)
        }
        f.grade = Assessment.grade(f, isGrid: org.isBottomTier(f.tier), settings: settings)
        return f
    }

    /// The report of `scopeUnitID`'s subtree (nil: the tally's whole scope); a unit outside the
    /// tally's scope gives an empty report.
    public func report(scopeUnitID: String?, minutesUnitIDs: Set<String>, month: String, settings: RegistrySettings.Assessment) -> AssessmentReport {
        let reportScope = scopeUnitID ?? scopeID
        let ids: [String] =
            reportScope == scopeID
            ? units.map(\.id)
            : index[reportScope] == nil ? [] : [reportScope] + org.descendants(of: reportScope).map(\.id)
        let figures = ids.compactMap { index[$0] }.map { finished($0, minutesUnitIDs: minutesUnitIDs, settings: settings) }
        let inScope = reportScope == scopeID ? nil : Set(ids)

        var ranking: [String: [String]] = [:]
        var candidates: [String: [String]] = [:]
        let byTier = Dictionary(grouping: figures, by: \.tier)
        for (tier, units) in byTier {
            let ranked = units.sorted(by: Assessment.ranksBefore)
            ranking[tier] = ranked.map(\.unitID)
            candidates[tier] = Array(ranked.filter { $0.grade == .green && $0.tasksReceived > 0 }.prefix(settings.candidates).map(\.unitID))
        }
        let rankedCadres = cadres.values.filter { inScope?.contains($0.unitID) ?? true }
            .filter { org.member($0.memberID)?.has(.cadre) == true }.sorted {
                if $0.score != $1.score { return $0.score > $1.score }
                if $0.resolutions != $1.resolutions { return $0.resolutions > $1.resolutions }
                return $0.memberID < $1.memberID
            }
        let cadreCandidates = rankedCadres.filter { $0.score > 0 }.prefix(settings.candidates).map(\.memberID)
        return AssessmentReport(
            month: month, scopeUnitID: reportScope, units: figures, ranking: ranking, unitCandidates: candidates,
            cadres: rankedCadres, cadreCandidates: Array(cadreCandidates), settings: settings, tiers: org.tiers)
    }
}
