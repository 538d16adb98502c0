import Foundation
import LeagueCore
import Yams

/// Merges a checked roster into the text of an org file, keeping everything the roster does not
/// speak of (groups and their robot secrets as written, e.g. `env:NAME`; supervisors; members'
/// platform ids; units not on the roster), and writes the result as org.yaml.
public enum OrgFileMerge {
    /// What the merge did, unit by unit and person by person.
    public struct Report: Sendable, Hashable, CustomStringConvertible {
        public var unitsAdded = 0, unitsChanged = 0, unitsUnchanged = 0, unitsLeftAlone = 0
        public var peopleAdded = 0, peopleChanged = 0, peopleUnchanged = 0
        /// One line per added or changed unit (`+ g3 第3网格`, `~ c1 解放路社区: name, 1 person added`).
        public var details: [String] = []

        public var description: String {
            "units: \(unitsAdded) added, \(unitsChanged) changed, \(unitsUnchanged) unchanged, \(unitsLeftAlone) in the org file but not on the roster (left alone); "
                + "people: \(peopleAdded) added, \(peopleChanged) changed, \(peopleUnchanged) unchanged"
        }
    }

    /// - Parameters:
    ///   - existing: the org file's text, or nil for a new file.
    /// - Returns: the new org.yaml text and what changed.
    /// - Throws: `RosterProblem` when the existing file is not a YAML mapping with `units:`.
    public static func merge(_ roster: [RosterImport.UnitRow], into existing: String?, file: String) throws(RosterProblem) -> (yaml: String, report: Report) {
        try merge(roster, into: parse(existing, file: file))
    }

    /// An org file's text, parsed once (for `known(in:)` and `merge(_:into:)`).
    public struct Parsed: @unchecked Sendable {
        var top: [String: Any]
    }

    /// - Throws: `RosterProblem` when the text is not a YAML mapping.
    public static func parse(_ existing: String?, file: String) throws(RosterProblem) -> Parsed {
        var top: [String: Any] = [:]
        if let existing, !existing.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            do {
                guard let loaded = try Yams.load(yaml: existing) as? [String: Any] else {
                    throw RosterProblem(file: file, line: 1, message: "the org file is not a mapping with `units:`")
                }
                top = loaded
            } catch let problem as RosterProblem {
                throw problem
            } catch {
                throw RosterProblem(file: file, line: 1, message: "the org file is not valid YAML: \(error)")
            }
        }
        return Parsed(top: top)
    }

    public static func merge(_ roster: [RosterImport.UnitRow], into parsed: Parsed) -> (yaml: String, report: Report) {
        var top = parsed.top
        var units = (top["units"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        var index: [String: Int] = [:]
        for (i, unit) in units.enumerated() { if let id = string(unit["id"]) { index[id] = i } }
        var memberIDs: Set<String> = []
        var nextNumber: [String: Int] = [:]
        for unit in units { for member in (unit["members"] as? [Any] ?? []).compactMap({ $0 as? [String: Any] }) { if let id = string(member["id"]) { memberIDs.insert(id) } } }
        var report = Report()
        let rosterIDs = Set(roster.map(\.id))
        report.unitsLeftAlone = index.keys.filter { !rosterIDs.contains($0) }.count
        for row in roster {
            var unit = index[row.id].map { units[$0] } ?? ["id": row.id]
            let isNew = index[row.id] == nil
            var changes: [String] = []
            if string(unit["name"]) != row.name { unit["name"] = row.name; changes.append("name") }
            if string(unit["tier"]) != row.tier { unit["tier"] = row.tier; changes.append("tier") }
            if string(unit["parent"]) != row.parentID {
                if let parent = row.parentID { unit["parent"] = parent } else { unit.removeValue(forKey: "parent") }
                changes.append("parent")
            }
            var members = (unit["members"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
            var byMobile: [String: Int] = [:]
            for (i, member) in members.enumerated() {
                if let mobile = string(member["mobile"]).flatMap(Mobile.normalized), byMobile[mobile] == nil { byMobile[mobile] = i }
            }
            var added = 0, changed = 0
            for person in row.people {
                let at = byMobile[person.mobile] ?? members.firstIndex { string($0["name"]) == person.name && $0["mobile"] == nil }
                let roles = person.roles.map(\.rawValue).sorted()
                if let at {
                    var member = members[at]
                    let before = member
                    member["name"] = person.name
                    member["mobile"] = person.mobile
                    member["roles"] = roles
                    if !same(before, member) { changed += 1 }
                    members[at] = member
                } else {
                    var number = nextNumber[row.id] ?? 1
                    while memberIDs.contains("\(row.id)-p\(number)") { number += 1 }
                    nextNumber[row.id] = number + 1
                    let id = "\(row.id)-p\(number)"
                    memberIDs.insert(id)
                    byMobile[person.mobile] = members.count
                    members.append(["id": id, "name": person.name, "roles": roles, "mobile": person.mobile])
                    added += 1
                }
            }
            report.peopleAdded += added
            report.peopleChanged += changed
            report.peopleUnchanged += row.people.count - added - changed
            if added > 0 { changes.append("\(added) \(added == 1 ? "person" : "people") added") }
            if changed > 0 { changes.append("\(changed) \(changed == 1 ? "person" : "people") changed") }
            if !members.isEmpty { unit["members"] = members }
            if isNew {
                report.unitsAdded += 1
                report.details.append("+ \(row.id) \(row.name)\(row.people.isEmpty ? "" : " (\(row.people.count) \(row.people.count == 1 ? "person" : "people"))")")
                index[row.id] = units.count
                units.append(unit)
            } else {
                units[index[row.id]!] = unit
                if changes.isEmpty {
                    report.unitsUnchanged += 1
                } else {
                    report.unitsChanged += 1
                    report.details.append("~ \(row.id) \(row.name): \(changes.joined(separator: ", "))")
                }
            }
        }
        top["units"] = units
        return (emit(top), report)
    }

    /// The units of an org file's text, for the roster's parent and tier checks; and its tiers.
    public static func known(in parsed: Parsed) -> (units: [String: RosterImport.KnownUnit], tiers: [String]) {
        let top = parsed.top
        var units: [String: RosterImport.KnownUnit] = [:]
        for unit in (top["units"] as? [Any] ?? []).compactMap({ $0 as? [String: Any] }) {
            guard let id = string(unit["id"]) else { continue }
            units[id] = RosterImport.KnownUnit(tier: string(unit["tier"]) ?? "", parentID: string(unit["parent"]))
        }
        let tiers = (top["tiers"] as? [Any])?.compactMap { string($0) } ?? OrgTree.standardTiers
        return (units, tiers)
    }

    /// org.yaml with what was learned in chat written in: chats bound with codes become `chat:` of
    /// their unit's group (keeping its robot settings as written), registered ids go under `ids:`.
    /// org.yaml wins where it already says otherwise; those are returned as notes.
    public static func export(_ parsed: Parsed, learned: LearnedBindings) -> (yaml: String, notes: [String]) {
        var top = parsed.top
        var units = (top["units"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        var index: [String: Int] = [:]
        var memberPlace: [String: (Int, Int)] = [:]
        for (u, unit) in units.enumerated() {
            if let id = string(unit["id"]) { index[id] = u }
            for (m, member) in (unit["members"] as? [Any] ?? []).enumerated() {
                if let id = string((member as? [String: Any])?["id"]) { memberPlace[id] = (u, m) }
            }
        }
        var notes: [String] = []
        for binding in learned.chats {
            guard let u = index[binding.unitID] else {
                notes.append("chat \(binding.platform):\(binding.chat) is bound to \(binding.unitID), which is not in the org file (left out)")
                continue
            }
            var group = units[u]["group"] as? [String: Any] ?? [:]
            if let chat = string(group["chat"]), !chat.isEmpty {
                notes.append("\(binding.unitID): org.yaml's chat \(chat) kept (bound in chat to \(binding.chat))")
                continue
            }
            if let platform = string(group["platform"]), platform != binding.platform {
                group = [:]
            }
            group["platform"] = binding.platform
            group["chat"] = binding.chat
            units[u]["group"] = group
        }
        for record in learned.members {
            guard let (u, m) = memberPlace[record.memberID], var members = units[u]["members"] as? [Any], var member = members[m] as? [String: Any] else {
                notes.append("registered member \(record.memberID) is not in the org file (left out)")
                continue
            }
            var ids = member["ids"] as? [String: Any] ?? [:]
            if let written = string(ids[record.platform]), written != record.userID {
                notes.append("\(record.memberID): org.yaml's \(record.platform) id kept (registered as another account in chat)")
                continue
            }
            ids[record.platform] = record.userID
            member["ids"] = ids
            members[m] = member
            units[u]["members"] = members
        }
        top["units"] = units
        return (emit(top), notes)
    }

    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let flag as Bool: return String(flag)
        default: return nil
        }
    }

    static func same(_ a: [String: Any], _ b: [String: Any]) -> Bool { emitFlow(a) == emitFlow(b) }

    // MARK: Writing

    static let unitKeyOrder = ["id", "name", "tier", "parent", "group", "supervisors", "members"]
    static let memberKeyOrder = ["id", "name", "roles", "mobile", "ids"]

    /// org.yaml: `tiers:` when given, then one block per unit with flow-style members.
    static func emit(_ top: [String: Any]) -> String {
        var lines = ["# Written by `leagueops org import` / `org export`; edit freely (comments are not kept by the next import)."]
        if let tiers = top["tiers"] { lines.append("tiers: " + emitFlow(tiers)) }
        for key in top.keys.sorted() where key != "tiers" && key != "units" { lines.append("\(key): " + emitFlow(top[key]!)) }
        lines.append("units:")
        for unit in (top["units"] as? [[String: Any]]) ?? [] {
            var first = true
            for key in ordered(unit.keys, unitKeyOrder) {
                let value = unit[key]!
                let prefix = first ? "  - " : "    "
                first = false
                if key == "members", let members = value as? [Any] {
                    lines.append(prefix + "members:")
                    for member in members { lines.append("      - " + emitFlow(member, order: memberKeyOrder)) }
                } else {
                    lines.append(prefix + "\(key): " + emitFlow(value))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func ordered(_ keys: Dictionary<String, Any>.Keys, _ order: [String]) -> [String] {
        order.filter { keys.contains($0) } + keys.filter { !order.contains($0) }.sorted()
    }

    static func emitFlow(_ value: Any, order: [String] = []) -> String {
        switch value {
        case let map as [String: Any]:
            return "{" + ordered(map.keys, order).map { "\(scalar($0)): \(emitFlow(map[$0]!))" }.joined(separator: ", ") + "}"
        case let list as [Any]:
            return "[" + list.map { emitFlow($0) }.joined(separator: ", ") + "]"
        case let flag as Bool:
            return flag ? "true" : "false"
        case let number as Int:
            return String(number)
        case let number as Double:
            return String(number)
        case let text as String:
            return scalar(text)
        default:
            return "null"
        }
    }

    /// A string as a YAML scalar: plain when that reads back as the same string, else double-quoted.
    static func scalar(_ text: String) -> String {
        let plainSafe =
            !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                switch scalar.value {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x2E: return true
                case 0x4E00...0x9FFF, 0x3400...0x4DBF: return true  // CJK ideographs
                default: return false
                }
            } && !text.first!.isNumber && !["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"].contains(text.lowercased())
        if plainSafe { return text }
        var escaped = "\""
        for character in text.unicodeScalars {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped + "\""
    }
}
