import Foundation

/// Where onboarding stands: groups bound and members registered, per tier and per unit.
public struct OnboardingStatus: Sendable {
    public struct Counts: Sendable, Hashable {
        public var units = 0, bound = 0, members = 0, registered = 0
        public var unbound: Int { units - bound }
        public var unregistered: Int { members - registered }

        mutating func add(_ unit: OrgUnit, platformOf: (OrgUnit) -> String?) {
            units += 1
            if unit.group != nil { bound += 1 }
            members += unit.members.count
            registered +=
                unit.members.filter { member in
                    guard let platform = platformOf(unit) else { return !member.ids.isEmpty }
                    return member.ids[platform] != nil
                }.count
        }
    }

    /// A unit still to chase: no group bound, or members not registered; with its supervisors.
    public struct Pending: Sendable, Hashable {
        public var unit: OrgUnit
        public var path: String
        public var unboundGroup: Bool
        public var unregistered: [String]
        public var supervisors: [String]
    }

    public var total = Counts()
    /// Counts by tier, in the org's tier order.
    public var byTier: [(tier: String, counts: Counts)] = []
    public var pending: [Pending] = []

    /// The status of `root`'s subtree (the whole org when nil) in the org as the engine sees it.
    /// A member counts as registered when they have a user id on their unit's group platform
    /// (or any id when the unit has no group yet).
    public static func compute(_ org: OrgTree, root: String? = nil) -> OnboardingStatus {
        let units: [OrgUnit]
        if let root, let node = org.unit(root) { units = [node] + org.descendants(of: root) } else { units = org.units }
        var status = OnboardingStatus()
        var tiers: [String: Counts] = [:]
        let platformOf: (OrgUnit) -> String? = { $0.group?.platform }
        for unit in units {
            status.total.add(unit, platformOf: platformOf)
            tiers[unit.tier, default: Counts()].add(unit, platformOf: platformOf)
            let unregistered = unit.members.filter { member in
                guard let platform = platformOf(unit) else { return member.ids.isEmpty }
                return member.ids[platform] == nil
            }
            if unit.group == nil || !unregistered.isEmpty {
                status.pending.append(
                    Pending(
                        unit: unit, path: org.path(of: unit.id), unboundGroup: unit.group == nil,
                        unregistered: unregistered.map(\.name), supervisors: org.supervisors(of: unit.id).map(\.name)))
            }
        }
        let order = org.tiers + tiers.keys.filter { !org.tiers.contains($0) }.sorted()
        status.byTier = order.compactMap { tier in tiers[tier].map { (tier, $0) } }
        return status
    }

    /// Chat answer: aggregates only, no person named.
    public func chatText(unitName: String, language: Language) -> String {
        var lines = [language.pick("\(unitName)及下级 绑定与登记情况：", "Binding and registration, \(unitName) and below:")]
        for (tier, counts) in byTier {
            let name = TaskTexts.tierName(tier, language)
            lines.append(
                language.pick(
                    "· \(name)：群已绑定 \(counts.bound)/\(counts.units)，成员已登记 \(counts.registered)/\(counts.members)",
                    "· \(name): groups bound \(counts.bound)/\(counts.units), members registered \(counts.registered)/\(counts.members)"))
        }
        let unbound = pending.filter(\.unboundGroup).count
        lines.append(
            language.pick(
                "合计：未绑定群 \(total.unbound) 个，未登记成员 \(total.unregistered) 人。",
                "Total: \(total.unbound) group(s) unbound, \(total.unregistered) member(s) unregistered."))
        if unbound > 0 {
            lines.append(language.pick("请督促未绑定的群发送“/绑定 绑定码”。", "Ask the unbound groups to send “/bind CODE”."))
        }
        return lines.joined(separator: "\n")
    }

    /// `leagueops org status` output: per tier, then the units to chase with their supervisors.
    public func report(format: String, language: Language) -> String {
        if format == "csv" {
            var rows = ["unit_id,path,tier,group_bound,unregistered_members,supervisors"]
            for item in pending {
                let fields = [
                    item.unit.id, item.path, item.unit.tier, item.unboundGroup ? "no" : "yes",
                    item.unregistered.joined(separator: "、"), item.supervisors.joined(separator: "、"),
                ]
                rows.append(CSV.row(fields))
            }
            return rows.joined(separator: "\r\n") + "\r\n"
        }
        var lines = ["| tier | groups bound | members registered |", "| --- | --- | --- |"]
        for (tier, counts) in byTier {
            lines.append("| \(TaskTexts.tierName(tier, language)) | \(counts.bound)/\(counts.units) | \(counts.registered)/\(counts.members) |")
        }
        lines.append("| all | \(total.bound)/\(total.units) | \(total.registered)/\(total.members) |")
        lines.append("")
        if pending.isEmpty {
            lines.append("Every group is bound and every member registered.")
        } else {
            lines.append("| unit | path | group | unregistered members | supervisors to ask |")
            lines.append("| --- | --- | --- | --- | --- |")
            for item in pending {
                lines.append(
                    "| \(item.unit.id) | \(item.path) | \(item.unboundGroup ? "unbound" : "bound") | \(item.unregistered.joined(separator: "、")) | \(item.supervisors.joined(separator: "、")) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
