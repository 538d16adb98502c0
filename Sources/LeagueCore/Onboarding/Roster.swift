import Foundation

/// A spreadsheet as read from a file: the header and each row with its line (or row) number.
public struct RosterTable: Sendable {
    public var file: String
    /// Line of the header (1 in a CSV without blank lines before it).
    public var headerLine: Int
    public var header: [String]
    public var rows: [(line: Int, cells: [String])]

    public init(file: String, headerLine: Int = 1, header: [String], rows: [(line: Int, cells: [String])]) {
        self.file = file
        self.headerLine = headerLine
        self.header = header
        self.rows = rows
    }
}

/// A problem with the roster: `file:line: what is wrong`.
public struct RosterProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// The roster's units and people, checked: what `leagueops org import` merges into org.yaml.
public enum RosterImport {
    public enum Column: String, CaseIterable, Sendable {
        case unitID = "unit_id", unitName = "unit_name", tier, parentID = "parent_id", name, mobile, roles
    }

    /// Header names, Chinese and English, lower-cased and without spaces.
    static let headerNames: [String: Column] = [
        "单位编号": .unitID, "unit_id": .unitID, "unitid": .unitID, "单位id": .unitID,
        "单位名称": .unitName, "单位": .unitName, "unit_name": .unitName, "unitname": .unitName, "unit": .unitName,
        "层级": .tier, "级别": .tier, "tier": .tier, "level": .tier,
        "上级编号": .parentID, "上级单位编号": .parentID, "parent_id": .parentID, "parentid": .parentID, "parent": .parentID,
        "姓名": .name, "name": .name,
        "手机": .mobile, "手机号": .mobile, "手机号码": .mobile, "mobile": .mobile, "phone": .mobile,
        "角色": .roles, "roles": .roles, "role": .roles,
    ]

    /// Columns that hold national ID numbers: a file with one is refused as `import youth` does.
    static let idNumberHeaders = ["身份证", "证件号", "id_number", "idnumber", "id_no", "national_id"]

    static let tierWords: [String: String] = [
        "区": "district", "县": "district", "区县": "district", "区/县": "district", "district": "district",
        "镇": "town", "街道": "town", "镇街": "town", "镇/街道": "town", "乡": "town", "town": "town",
        "村": "community", "社区": "community", "村社区": "community", "村/社区": "community", "community": "community",
        "网格": "grid", "grid": "grid",
    ]

    static let roleWords: [String: Role?] = [
        "管理员": .admin, "admin": .admin, "团干部": .cadre, "网格员": .cadre, "cadre": .cadre,
        "督导": .supervisor, "supervisor": .supervisor, "成员": nil, "member": nil,
    ]

    /// One person on the roster.
    public struct Person: Sendable, Hashable {
        public var name: String
        public var mobile: String
        public var roles: Set<Role>
        public var line: Int
    }

    /// One unit with its people, as the roster gives it.
    public struct UnitRow: Sendable, Hashable {
        public var id: String
        public var name: String
        public var tier: String
        public var parentID: String?
        /// The first line the unit appears on.
        public var line: Int
        public var people: [Person]
    }

    /// The checked units, or every problem found.
    public enum Outcome: Sendable {
        case success([UnitRow])
        case failure([RosterProblem])
    }

    /// A unit already in org.yaml, as far as the checks need it.
    public struct KnownUnit: Sendable, Hashable {
        public var tier: String
        public var parentID: String?
        public init(tier: String, parentID: String?) {
            self.tier = tier
            self.parentID = parentID
        }
    }

    /// Reads and checks every row; every problem is reported, each with its line.
    /// - Parameters:
    ///   - tiers: the org's tiers, top to bottom.
    ///   - known: the units already in org.yaml (a parent may be one of them).
    public static func read(_ table: RosterTable, tiers: [String] = OrgTree.standardTiers, known: [String: KnownUnit] = [:]) -> Outcome {
        var problems: [RosterProblem] = []
        func problem(_ line: Int, _ message: String) { problems.append(RosterProblem(file: table.file, line: line, message: message)) }
        var columns: [Column: Int] = [:]
        for (index, raw) in table.header.enumerated() {
            let key = raw.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "_")
            if idNumberHeaders.contains(where: { key.contains($0) }) {
                problem(table.headerLine, "column “\(raw)” holds ID numbers; LeagueOps never stores them — delete the column and import again (nothing was imported)")
                return .failure(problems)
            }
            guard let column = headerNames[key] else { continue }
            if columns[column] != nil {
                problem(table.headerLine, "column “\(raw)” appears twice")
            }
            columns[column] = index
        }
        for required in [Column.unitID, .unitName, .tier, .parentID] where columns[required] == nil {
            problem(table.headerLine, "no “\(required.rawValue)” column (headers may be Chinese or English: 单位编号 unit_id, 单位名称 unit_name, 层级 tier, 上级编号 parent_id, 姓名 name, 手机 mobile, 角色 roles)")
        }
        guard problems.isEmpty else { return .failure(problems) }
        func cell(_ cells: [String], _ column: Column) -> String {
            guard let index = columns[column], index < cells.count else { return "" }
            return cells[index].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var units: [String: UnitRow] = [:]
        var order: [String] = []
        var mobiles: [String: [String: Int]] = [:]
        func readPerson(_ cells: [String], line: Int, unit: String) -> Person? {
            let name = cell(cells, .name), mobileText = cell(cells, .mobile), rolesText = cell(cells, .roles)
            guard !(name.isEmpty && mobileText.isEmpty && rolesText.isEmpty) else { return nil }
            var ok = true
            if name.isEmpty {
                problem(line, "a person in “\(unit)” has no name")
                ok = false
            }
            let mobile = Mobile.normalized(mobileText)
            if mobile == nil {
                problem(line, mobileText.isEmpty ? "“\(name)” has no mobile (members register with it)" : "“\(name)”: bad mobile “\(Mobile.maskDigits(in: mobileText))” (11 digits starting with 1)")
                ok = false
            } else if let first = mobiles[unit]?[mobile!] {
                problem(line, "“\(name)”: the same mobile is already on line \(first) for this unit")
                ok = false
            } else {
                mobiles[unit, default: [:]][mobile!] = line
            }
            var roles: Set<Role> = []
            for word in rolesText.split(whereSeparator: { "、,，;；/ ".contains($0) }) {
                guard let role = roleWords[word.lowercased()] else {
                    problem(line, "“\(name)”: unknown role “\(word)” (use 管理员 admin, 团干部/网格员 cadre, 督导 supervisor, 成员 member)")
                    ok = false
                    continue
                }
                if let role { roles.insert(role) }
            }
            return ok ? Person(name: name, mobile: mobile!, roles: roles, line: line) : nil
        }
        for (line, cells) in table.rows {
            if cells.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            let id = cell(cells, .unitID)
            guard !id.isEmpty else {
                problem(line, "no unit id (column \(Column.unitID.rawValue) / 单位编号)")
                continue
            }
            let name = cell(cells, .unitName)
            let tierText = cell(cells, .tier)
            let tier = tierWords[tierText.lowercased()] ?? (tiers.contains(tierText) ? tierText : nil)
            if tier == nil {
                problem(
                    line,
                    "unit “\(id)”: unknown tier “\(tierText)” (use 区/县 district, 镇/街道 town, 村/社区 community, 网格 grid\(tiers == OrgTree.standardTiers ? "" : ", or one of \(tiers.joined(separator: ", "))"))"
                )
            }
            let parentText = cell(cells, .parentID)
            let parent = parentText.isEmpty ? nil : parentText
            if let existing = units[id] {
                if existing.name != name || (tier != nil && existing.tier != tier) || existing.parentID != parent {
                    problem(line, "duplicate unit id “\(id)” with another name, tier or parent (line \(existing.line) has “\(existing.name)”, \(existing.tier), parent \(existing.parentID ?? "none"))")
                    continue
                }
                if let person = readPerson(cells, line: line, unit: id) { units[id]!.people.append(person) }
            } else {
                if name.isEmpty { problem(line, "unit “\(id)” has no name (column \(Column.unitName.rawValue) / 单位名称)") }
                var row = UnitRow(id: id, name: name, tier: tier ?? tierText, parentID: parent, line: line, people: [])
                if let person = readPerson(cells, line: line, unit: id) { row.people.append(person) }
                units[id] = row
                order.append(id)
            }
        }
        // The tree: parents known, tiers in order, no cycles, one root.
        func tierOf(_ id: String) -> String? { units[id]?.tier ?? known[id]?.tier }
        func parentOf(_ id: String) -> String? { units[id].map { $0.parentID } ?? known[id]?.parentID }
        for id in order {
            let row = units[id]!
            guard let parent = row.parentID else {
                let otherRoots = known.filter { $0.value.parentID == nil && $0.key != id }.map(\.key)
                if let other = otherRoots.first {
                    problem(row.line, "unit “\(id)” has no parent, but the org already has its root “\(other)”; give 上级编号 parent_id")
                }
                continue
            }
            guard let parentTier = tierOf(parent) else {
                problem(row.line, "unit “\(id)” has unknown parent “\(parent)” (not in this file nor in the org file)")
                continue
            }
            if let childIndex = tiers.firstIndex(of: row.tier), let parentIndex = tiers.firstIndex(of: parentTier), childIndex <= parentIndex {
                problem(row.line, "unit “\(id)” (\(row.tier)) is under “\(parent)” (\(parentTier)): tier out of order, a unit must be below its parent's tier")
            }
            var seen: Set<String> = [id]
            var current: String? = parent
            while let next = current {
                if !seen.insert(next).inserted {
                    problem(row.line, "cycle in the tree: “\(id)” is its own ancestor through “\(parent)”")
                    break
                }
                current = parentOf(next)
            }
        }
        let roots = order.filter { units[$0]!.parentID == nil }
        if roots.count > 1 {
            problem(units[roots[1]]!.line, "more than one unit without a parent (“\(roots.joined(separator: "”, “"))”): every unit but the district needs 上级编号 parent_id")
        }
        guard problems.isEmpty else { return .failure(problems.sorted { $0.line < $1.line }) }
        return .success(order.map { units[$0]! })
    }
}
