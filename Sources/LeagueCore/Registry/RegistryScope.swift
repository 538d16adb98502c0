import Foundation

/// Who may see and act on what: a member's own unit and everything below it, nothing beside or above.
public enum RegistryScope {
    /// True when `member` may query or act on `unitID`.
    public static func allows(_ member: Member, unitID: String, org: OrgTree) -> Bool {
        org.isInSubtree(unitID, of: member.unitID)
    }

    /// - Throws: a refusal naming the unit when it lies outside the member's part of the tree.
    public static func check(_ member: Member, unitID: String, org: OrgTree) throws(Refusal) {
        guard allows(member, unitID: unitID, org: org) else {
            let name = org.unit(unitID)?.name ?? unitID
            let own = org.unit(member.unitID)?.name ?? member.unitID
            throw Refusal(
                zh: "您只能查询和办理\(own)及其下级单位的数据，\(name)不在您的范围内。",
                en: "You can only query and act on \(own) and the units below it; \(name) is outside your part of the tree.")
        }
    }

    /// The start and end (exclusive) of a `YYYY-MM` month in a time zone.
    public static func monthRange(_ month: String, timeZone: TimeZone) -> (start: Date, end: Date)? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let start = calendar.date(from: DateComponents(year: year, month: m, day: 1)),
            let end = calendar.date(byAdding: .month, value: 1, to: start)
        else { return nil }
        return (start, end)
    }
}

/// Chat answers of the registry: aggregates only. Nothing here takes a name or a contact of a registry person.
public enum RegistryText {
    /// A count as chat may show it: 1 … minimum-1 become “<minimum” so a small group cannot be singled out.
    public static func count(_ n: Int, minimum: Int) -> String {
        (n > 0 && n < minimum) ? "<\(minimum)" : String(n)
    }

    /// `/查询 青少年`: counts by age band and status, and the number in difficulty.
    /// - Parameters:
    ///   - unitName: the unit asked about.
    ///   - counts: the subtree's counts.
    ///   - grids: how many grids of the subtree have a registry.
    public static func youth(unitName: String, counts: YouthCounts, grids: Int, minimum: Int, link: String?, language: Language) -> String {
        let c = { (n: Int) in count(n, minimum: minimum) }
        guard counts.total > 0 else {
            return language.pick("\(unitName)及下级暂无青少年登记数据。", "\(unitName) and the units below have no youth registry yet.")
        }
        var lines = [language.pick("📊 \(unitName) 青少年情况（\(grids) 个网格登记）", "📊 Youth in \(unitName) (\(grids) grid(s) registered)")]
        lines.append(language.pick("合计 \(c(counts.total)) 人，困境青少年 \(c(counts.inDifficulty)) 人", "Total \(c(counts.total)); in difficulty \(c(counts.inDifficulty))"))
        // Parts of a shown total: a lone hidden part would be the total minus the others (issue 11).
        let ages = SmallCounts.suppress(parts: AgeBand.allCases.map { counts.byAgeBand[$0] ?? 0 }, total: counts.total, threshold: minimum)
        lines.append(language.pick("年龄段：", "Age: ") + zip(AgeBand.allCases, ages.parts).map { "\($0.rawValue) \($1)" }.joined(separator: " | "))
        let statuses = SmallCounts.suppress(parts: YouthStatus.allCases.map { counts.byStatus[$0] ?? 0 }, total: counts.total, threshold: minimum)
        lines.append(language.pick("状态：", "Status: ") + zip(YouthStatus.allCases, statuses.parts).map { "\($0.name(language)) \($1)" }.joined(separator: " | "))
        if !counts.difficultyByCategory.isEmpty {
            let categories = Array(counts.difficultyByCategory.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(6))
            let shown = SmallCounts.suppress(parts: categories.map(\.value), total: counts.inDifficulty, threshold: minimum).parts
            lines.append(language.pick("困境类别：", "Difficulty: ") + zip(categories, shown).map { "\($0.key) \($1)" }.joined(separator: " | "))
        }
        if let link { lines.append(language.pick("完整视图：\(link)", "Full view: \(link)")) }
        return lines.joined(separator: "\n")
    }

    /// `/查询 诉求` and `/诉求 列表`: counts by state and the oldest open ones (id, category, state, age).
    public static func demands(unitName: String, demands: [Demand], state: DemandState?, now: Date, link: String?, language: Language) -> String {
        let byState = demands.reduce(into: [DemandState: Int]()) { $0[$1.state, default: 0] += 1 }
        let title = state.map { language.pick("（\($0.name(.zh))）", " (\($0.name(.en)))") } ?? ""
        var lines = [language.pick("📋 \(unitName) 诉求\(title)：共 \(demands.count) 件", "📋 Demands of \(unitName)\(title): \(demands.count)")]
        guard !demands.isEmpty else { return lines[0] }
        lines.append(DemandState.allCases.filter { (byState[$0] ?? 0) > 0 }.map { "\($0.name(language)) \(byState[$0]!)" }.joined(separator: " | "))
        let open = demands.filter { $0.state.isOpen }.sorted { $0.createdAt < $1.createdAt }
        if !open.isEmpty {
            lines.append(language.pick("最早未办结：", "Oldest open:"))
            for demand in open.prefix(5) {
                let age = DurationText.human(now.timeIntervalSince(demand.createdAt), language: language)
                let category = demand.category.map { "#\($0) " } ?? ""
                lines.append("• \(demand.label) \(category)\(demand.state.name(language)) · \(age)")
            }
        }
        if let link { lines.append(language.pick("完整视图：\(link)", "Full view: \(link)")) }
        return lines.joined(separator: "\n")
    }
}
