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
        let scopeID = scopeUnitID ?? org.rootID ?? ""
        var scope: [OrgUnit] = org.unit(scopeID).map { [$0] } ?? []
        scope += org.descendants(of: scopeID)
        var index: [String: Int] = [:]
        index.reserveCapacity(scope.count)
        var figures: [UnitFigures] = []
        figures.reserveCapacity(scope.count)
        for unit in scope {
            index[unit.id] = figures.count
            figures.append(UnitFigures(unitID: unit.id, name: unit.name, tier: unit.tier))
        }
        var ackSeconds = [[Double]](repeating: [], count: figures.count)
        var breaches = [Set<Int>](repeating: [], count: figures.count)
        var overdue = [Set<String>](repeating: [], count: figures.count)
        var cadres: [String: CadreFigures] = [:]

        func cadre(_ memberID: String?, _ update: (inout CadreFigures) -> Void) {
            guard let memberID, let member = org.member(memberID), index[member.unitID] != nil else { return }
            if cadres[memberID] == nil { cadres[memberID] = CadreFigures(memberID: memberID, name: member.name, unitID: member.unitID) }
            update(&cadres[memberID]!)
        }

        for event in events {
            guard let unitID = event.unitID, let i = index[unitID] else { continue }
            switch event.kind {
            case "target.assigned":
                if event.data["kind"] == "report" { figures[i].reportsReceived += 1 } else { figures[i].tasksReceived += 1 }
            case "task.ack":
                let onTime = event.data["late"] == "0"
                figures[i].acknowledged += 1
                if onTime { figures[i].acknowledgedOnTime += 1 }
                if let seconds = event.data["seconds"].flatMap(Double.init) { ackSeconds[i].append(seconds) }
                cadre(event.memberID) {
                    $0.acknowledgements += 1
                    if onTime { $0.acknowledgementsOnTime += 1 }
                }
            case "report.claimed":
                figures[i].reportsClaimed += 1
                if event.data["late"] == "0" { figures[i].reportsClaimedOnTime += 1 }
                cadre(event.memberID) { $0.claims += 1 }
            case "task.breach":
                if let task = event.taskID { breaches[i].insert(task) }
            case "demand.created":
                figures[i].demandsCollected += 1
            case "demand.resolved":
                figures[i].demandsResolved += 1
                cadre(event.memberID) { $0.resolutions += 1 }
            case "demand.overdue":
                overdue[i].insert(event.data["demand"] ?? "\(event.at.timeIntervalSince1970)")
            default:
                continue
            }
        }

        for i in figures.indices {
            figures[i].breaches = breaches[i].count
            figures[i].demandsOverdue = overdue[i].count
            figures[i].minutesHeld = minutesUnitIDs.contains(figures[i].unitID)
            if !ackSeconds[i].isEmpty {
                let sorted = ackSeconds[i].sorted()
                figures[i].medianAckSeconds = median(sorted)
                figures[i].p90AckSeconds = nearestRank(sorted, 0.9)
            }
            figures[i].grade = grade(figures[i], isGrid: org.isBottomTier(figures[i].tier), settings: settings)
        }

        var ranking: [String: [String]] = [:]
        var candidates: [String: [String]] = [:]
        let byTier = Dictionary(grouping: figures, by: \.tier)
        for (tier, units) in byTier {
            let ranked = units.sorted(by: ranksBefore)
            ranking[tier] = ranked.map(\.unitID)
            candidates[tier] = Array(ranked.filter { $0.grade == .green && $0.tasksReceived > 0 }.prefix(settings.candidates).map(\.unitID))
        }
        let rankedCadres = cadres.values.filter { org.member($0.memberID)?.has(.cadre) == true }.sorted {
            if $0.score != $1.score { return $0.score > $1.score }
            if $0.resolutions != $1.resolutions { return $0.resolutions > $1.resolutions }
            return $0.memberID < $1.memberID
        }
        let cadreCandidates = rankedCadres.filter { $0.score > 0 }.prefix(settings.candidates).map(\.memberID)
        return AssessmentReport(month: month, scopeUnitID: scopeID, units: figures, ranking: ranking, unitCandidates: candidates,
                                cadres: rankedCadres, cadreCandidates: Array(cadreCandidates), settings: settings, tiers: org.tiers)
    }

    /// The grade rule (written under every table by `rules`).
    public static func grade(_ f: UnitFigures, isGrid: Bool, settings: RegistrySettings.Assessment) -> Grade {
        let share = f.onTimeShare ?? 1
        if share < settings.yellow { return .red }
        let green = share >= settings.green && f.breaches <= settings.maxBreachesGreen && f.demandsOverdue == 0
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
