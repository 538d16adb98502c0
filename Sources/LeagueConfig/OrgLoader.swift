import Foundation
import LeagueCore
import Yams

/// Loads org.yaml: a flat list of units, parent by id, and validates the tree.
public enum OrgLoader {
    static let unitKeys: Set<String> = ["id", "name", "tier", "parent", "group", "members", "supervisors"]
    static let memberKeys: Set<String> = ["id", "name", "roles", "ids", "mobile"]

    /// Loads and validates an org file; appends every problem found.
    /// - Parameter platforms: the platforms configured in leagueops.yaml (a group must use one of them).
    public static func load(path: String, environment: [String: String], platforms: Set<String>, problems: inout [ConfigProblem]) -> OrgTree? {
        var warnings: [ConfigProblem] = []
        return load(path: path, environment: environment, platforms: platforms, problems: &problems, warnings: &warnings)
    }

    /// Loads and validates an org file; appends every problem found, and what is allowed but
    /// probably wrong to `warnings` (`leagueops check` prints them; the bot starts).
    public static func load(
        path: String, environment: [String: String], platforms: Set<String>, problems: inout [ConfigProblem], warnings: inout [ConfigProblem]
    ) -> OrgTree? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            problems.append(ConfigProblem(file: path, line: nil, message: "cannot read the org file (set `org:` in leagueops.yaml to its path)"))
            return nil
        }
        let reader = YAMLReader(file: path, environment: environment)
        let top = reader.mapping(reader.root(text: text), "the org file")
        var tiers = OrgTree.standardTiers
        if let custom = reader.strings(top?["tiers"], "tiers") { tiers = custom }
        if let top { reader.checkKeys(top, allowed: ["units", "tiers"], "org file") }
        guard let list = reader.sequence(top?["units"], "units") else {
            if top != nil, top?["units"] == nil { reader.problem(line: nil, "the org file needs a `units:` list") }
            problems += reader.problems
            return nil
        }
        var units: [OrgUnit] = []
        var lines: [String: Int] = [:]
        var parentLines: [String: Int] = [:]
        var supervisorNodes: [String: Node] = [:]
        var memberUnits: [String: (unit: String, line: Int?)] = [:]
        var chats: [String: (unit: String, line: Int?)] = [:]
        var platformIDs: [String: (member: String, line: Int?)] = [:]
        for node in list {
            guard let map = reader.mapping(node, "each unit") else { continue }
            reader.checkKeys(map, allowed: unitKeys, "a unit")
            guard let id = reader.string(map["id"], "unit id"), !id.isEmpty else {
                reader.problem(node, "a unit has no id")
                continue
            }
            let line = node.mark?.line
            if let first = lines[id] {
                reader.problem(line: line, "duplicate unit id “\(id)” (first defined at line \(first))")
                continue
            }
            lines[id] = line
            let name = reader.string(map["name"], "unit \(id) name") ?? id
            let tier = reader.string(map["tier"], "unit \(id) tier") ?? ""
            if !tiers.contains(tier) {
                reader.problem(map["tier"] ?? node, "unit “\(id)” has tier “\(tier)”; use one of \(tiers.joined(separator: ", ")) (or list custom tiers under `tiers:`)")
            }
            let parent = reader.string(map["parent"], "unit \(id) parent")
            if parent != nil { parentLines[id] = map["parent"]?.mark?.line }
            var group: GroupBinding?
            if let groupMap = reader.mapping(map["group"], "unit \(id) group") {
                let platform = reader.string(groupMap["platform"], "group platform") ?? ""
                let chat = reader.string(groupMap["chat"], "group chat") ?? ""
                // A group without `chat` names the platform (and its robot) of a group bound later with /绑定.
                if platform.isEmpty {
                    reader.problem(map["group"], "unit “\(id)”: a group needs a platform (and its chat, unless the group binds itself with /绑定)")
                } else if !platforms.contains(platform) {
                    reader.problem(groupMap["platform"], "unit “\(id)”: platform “\(platform)” is not configured under `platforms:` in leagueops.yaml")
                }
                var credentials: [String: String] = [:]
                for (key, value) in groupMap {
                    guard let name = key.string, name != "platform", name != "chat" else { continue }
                    if let secret = reader.secret(value, "unit \(id) group.\(name)") { credentials[name] = secret }
                }
                let chatKey = "\(platform)\u{1F}\(chat)"
                if let other = chats[chatKey] {
                    reader.problem(groupMap["chat"], "group \(platform):\(chat) is bound twice: to “\(other.unit)” (line \(other.line ?? 0)) and to “\(id)”; a group belongs to one unit")
                } else if !chat.isEmpty {
                    chats[chatKey] = (id, groupMap["chat"]?.mark?.line)
                }
                group = RobotAlias.binding(platform: platform, chat: chat, credentials: credentials)
            }
            var members: [Member] = []
            for memberNode in reader.sequence(map["members"], "unit \(id) members") ?? [] {
                guard let m = reader.mapping(memberNode, "a member") else { continue }
                reader.checkKeys(m, allowed: memberKeys, "a member")
                guard let memberID = reader.string(m["id"], "member id"), !memberID.isEmpty else {
                    reader.problem(memberNode, "a member of “\(id)” has no id")
                    continue
                }
                if let other = memberUnits[memberID] {
                    reader.problem(memberNode, "duplicate member id “\(memberID)” (also in “\(other.unit)” at line \(other.line ?? 0))")
                    continue
                }
                memberUnits[memberID] = (id, memberNode.mark?.line)
                var roles: Set<Role> = []
                let roleNames = reader.strings(m["roles"], "member roles") ?? []
                if roleNames.isEmpty {
                    // No roles means no role (issue 11): such a member acknowledges and reads, never dispatches.
                    warnings.append(
                        ConfigProblem(
                            file: path, line: memberNode.mark?.line,
                            message:
                                "member “\(memberID)” of “\(id)” has no roles: they can acknowledge and use the commands open to every member, but not dispatch, report or close; add `roles: [cadre]` if they should"
                        ))
                }
                for roleName in roleNames {
                    if let role = Role(rawValue: roleName) {
                        roles.insert(role)
                    } else {
                        reader.problem(m["roles"], "member “\(memberID)”: unknown role “\(roleName)” (use admin, cadre or supervisor)")
                    }
                }
                var ids: [String: String] = [:]
                if let idMap = reader.mapping(m["ids"], "member ids") {
                    for (key, value) in idMap {
                        if let platform = key.string, let userID = reader.string(value, "member id") {
                            ids[platform] = userID
                            let idKey = "\(platform)\u{1F}\(userID)"
                            if let other = platformIDs[idKey] {
                                reader.problem(
                                    value,
                                    "platform id \(platform):\(userID) of member “\(memberID)” is already listed for member “\(other.member)” (line \(other.line ?? 0)); a platform account belongs to one member, remove it from one of them"
                                )
                            } else {
                                platformIDs[idKey] = (memberID, value.mark?.line)
                            }
                        }
                    }
                }
                members.append(
                    Member(
                        id: memberID, name: reader.string(m["name"], "member name") ?? memberID, roles: roles, ids: ids,
                        mobile: reader.string(m["mobile"], "member mobile"), unitID: id
                    ))
            }
            let supervisors = reader.strings(map["supervisors"], "unit \(id) supervisors")
            if let node = map["supervisors"] { supervisorNodes[id] = node }
            units.append(OrgUnit(id: id, name: name, tier: tier, parentID: parent, group: group, members: members, supervisorIDs: supervisors))
        }
        // Parents, roots, cycles, supervisors.
        let ids = Set(units.map(\.id))
        let roots = units.filter { $0.parentID == nil }
        if roots.isEmpty && !units.isEmpty { reader.problem(line: nil, "no unit is the root: exactly one unit must have no parent") }
        if roots.count > 1 {
            reader.problem(line: lines[roots[1].id], "more than one root (“\(roots.map(\.id).joined(separator: "”, “"))”): every unit but one needs a parent")
        }
        for unit in units {
            if let parent = unit.parentID, !ids.contains(parent) {
                reader.problem(line: parentLines[unit.id], "unit “\(unit.id)” has unknown parent “\(parent)”")
            }
            for supervisor in unit.supervisorIDs ?? [] where memberUnits[supervisor] == nil {
                reader.problem(supervisorNodes[unit.id], "unit “\(unit.id)” names supervisor “\(supervisor)”, who is not a member of any unit")
            }
        }
        let parentOf = Dictionary(units.map { ($0.id, $0.parentID) }, uniquingKeysWith: { first, _ in first })
        var reported: Set<String> = []
        for unit in units {
            var seen: [String] = [unit.id]
            var current = unit.parentID
            while let next = current, let grand = parentOf[next] {
                if seen.contains(next) {
                    let cycle = seen.drop(while: { $0 != next })
                    if reported.insert(Set(cycle).sorted().joined()).inserted {
                        reader.problem(line: lines[unit.id], "cycle in the tree: \((cycle + [next]).joined(separator: " → ")); a unit cannot be its own ancestor")
                    }
                    break
                }
                seen.append(next)
                current = grand
            }
        }
        problems += reader.problems
        return OrgTree(units: units, tiers: tiers)
    }
}
