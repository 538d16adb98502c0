import Foundation

/// A member's role in a unit.
public enum Role: String, Sendable, Codable, Hashable, CaseIterable {
    case admin, cadre, supervisor
}

/// A person in the org tree: a cadre, an admin or a supervisor of one unit.
public struct Member: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var roles: Set<Role>
    /// Platform user ids by platform name (`generic`, `wecom`, `dingtalk`, `feishu`, `console`).
    public var ids: [String: String]
    public var mobile: String?
    /// The unit this member belongs to.
    public var unitID: String

    public init(id: String, name: String, roles: Set<Role>, ids: [String: String], mobile: String? = nil, unitID: String) {
        self.id = id
        self.name = name
        self.roles = roles
        self.ids = ids
        self.mobile = mobile
        self.unitID = unitID
    }

    public func has(_ role: Role) -> Bool { roles.contains(role) }
}

/// A unit's group chat and its outbound robot credentials.
public struct GroupBinding: Sendable, Hashable, Codable {
    public var platform: String
    public var chat: String
    /// Outbound credentials, secrets already resolved (`robot_key`, `robot_token`, `robot_secret`, `hook`, `hook_secret`, …).
    /// Held in memory only: the outbox stores the unit and chat, and the credentials are looked up
    /// in the config when a message is sent (issue 11).
    public var credentials: [String: String]
    /// A stable alias of the robot this binding posts through, safe for the store, logs and metrics:
    /// the config loader sets a hash of the credential; by default the chat id. Never a key.
    public var robot: String

    public init(platform: String, chat: String, credentials: [String: String] = [:], robot: String? = nil) {
        self.platform = platform
        self.chat = chat
        self.credentials = credentials
        self.robot = robot ?? chat
    }

    /// Stable name of the outbound robot this binding posts through (one queue and one rate limit
    /// each): the platform and the robot's alias, never its credential.
    public var robotID: String { "\(platform):\(robot)" }

    /// The credential that names the robot (a webhook key, access token or hook id), if any.
    public var robotCredential: String? { credentials["robot_key"] ?? credentials["robot_token"] ?? credentials["hook"] }

    private enum CodingKeys: String, CodingKey { case platform, chat, credentials, robot }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        platform = try container.decode(String.self, forKey: .platform)
        chat = try container.decode(String.self, forKey: .chat)
        credentials = try container.decodeIfPresent([String: String].self, forKey: .credentials) ?? [:]
        robot = try container.decodeIfPresent(String.self, forKey: .robot) ?? chat
    }
}

/// One node of the tree: district, town, community, grid or a custom tier.
public struct OrgUnit: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var tier: String
    public var parentID: String?
    public var group: GroupBinding?
    public var members: [Member]
    /// Explicit supervisors (member ids); nil means the admins of the parent unit.
    public var supervisorIDs: [String]?

    public init(id: String, name: String, tier: String, parentID: String?, group: GroupBinding?, members: [Member], supervisorIDs: [String]? = nil) {
        self.id = id
        self.name = name
        self.tier = tier
        self.parentID = parentID
        self.group = group
        self.members = members
        self.supervisorIDs = supervisorIDs
    }
}

/// The org tree, indexed for the lookups the bot makes on every message.
public struct OrgTree: Sendable {
    public let units: [OrgUnit]
    public let tiers: [String]
    private let byID: [String: Int]
    private let byName: [String: Int]
    private let byChat: [String: Int]
    private let childrenByID: [String: [String]]
    private let memberByID: [String: Member]
    private let memberByPlatformID: [String: Member]
    public let rootID: String?

    /// The built-in tiers, top to bottom.
    public static let standardTiers = ["district", "town", "community", "grid"]

    public init(units: [OrgUnit], tiers: [String] = OrgTree.standardTiers) {
        self.units = units
        self.tiers = tiers
        var byID: [String: Int] = [:]
        var byName: [String: Int] = [:]
        var byChat: [String: Int] = [:]
        var children: [String: [String]] = [:]
        var members: [String: Member] = [:]
        var platformIDs: [String: Member] = [:]
        for (index, unit) in units.enumerated() {
            byID[unit.id] = index
            if byName[unit.name] == nil { byName[unit.name] = index }
            if let group = unit.group, !group.chat.isEmpty { byChat["\(group.platform)\u{1F}\(group.chat)"] = index }
            if let parent = unit.parentID { children[parent, default: []].append(unit.id) }
            for member in unit.members {
                members[member.id] = member
                for (platform, userID) in member.ids {
                    platformIDs["\(platform)\u{1F}\(userID)"] = member
                }
            }
        }
        self.byID = byID
        self.byName = byName
        self.byChat = byChat
        self.childrenByID = children
        self.memberByID = members
        self.memberByPlatformID = platformIDs
        self.rootID = units.first(where: { $0.parentID == nil })?.id
    }

    public var root: OrgUnit? { rootID.flatMap({ unit($0) }) }

    public func unit(_ id: String) -> OrgUnit? { byID[id].map { units[$0] } }

    /// A unit by id or, failing that, by its exact name.
    public func unit(named key: String) -> OrgUnit? {
        if let index = byID[key] { return units[index] }
        return byName[key].map { units[$0] }
    }

    /// The unit bound to a group chat of a platform.
    public func unit(platform: String, chat: String) -> OrgUnit? {
        byChat["\(platform)\u{1F}\(chat)"].map { units[$0] }
    }

    public func member(_ id: String) -> Member? { memberByID[id] }

    /// The member with this platform user id, wherever they sit in the tree.
    public func member(platform: String, userID: String) -> Member? {
        memberByPlatformID["\(platform)\u{1F}\(userID)"]
    }

    public func children(of id: String) -> [OrgUnit] {
        (childrenByID[id] ?? []).compactMap({ unit($0) })
    }

    /// The unit itself followed by its ancestors up to the root.
    public func lineage(of id: String) -> [OrgUnit] {
        var result: [OrgUnit] = []
        var current = unit(id)
        var seen: Set<String> = []
        while let node = current, seen.insert(node.id).inserted {
            result.append(node)
            current = node.parentID.flatMap({ unit($0) })
        }
        return result
    }

    /// True when `member` is an admin of `unitID` or of a unit above it.
    public func isAdmin(_ member: Member, over unitID: String) -> Bool {
        member.has(.admin) && isInSubtree(unitID, of: member.unitID)
    }

    /// True when `member` may act for `unitID`'s group: a member of that unit, or an admin above it.
    public func mayActFor(_ member: Member, unitID: String) -> Bool {
        member.unitID == unitID || isAdmin(member, over: unitID)
    }

    /// True when `id` is `ancestorID` or lies below it.
    public func isInSubtree(_ id: String, of ancestorID: String) -> Bool {
        lineage(of: id).contains { $0.id == ancestorID }
    }

    /// Every unit strictly below `id`, breadth first.
    public func descendants(of id: String) -> [OrgUnit] {
        var result: [OrgUnit] = []
        var queue = childrenByID[id] ?? []
        var index = 0
        while index < queue.count {
            let childID = queue[index]
            index += 1
            if let child = unit(childID) {
                result.append(child)
                queue.append(contentsOf: childrenByID[childID] ?? [])
            }
        }
        return result
    }

    /// The tier below a tier (`grid` is the bottom of the standard tiers).
    public func isBottomTier(_ tier: String) -> Bool { tiers.last == tier }

    /// The supervisors of a unit: explicit ones, else the admins of its parent.
    public func supervisors(of id: String) -> [Member] {
        guard let node = unit(id) else { return [] }
        if let explicit = node.supervisorIDs {
            return explicit.compactMap({ member($0) })
        }
        guard let parent = node.parentID.flatMap({ unit($0) }) else { return [] }
        return parent.members.filter { $0.has(.admin) }
    }

    /// The unit whose group chat receives escalations about `id`: where its supervisors sit.
    public func supervisorUnit(of id: String) -> OrgUnit? {
        guard let node = unit(id) else { return nil }
        if node.supervisorIDs != nil, let first = supervisors(of: id).first {
            return unit(first.unitID)
        }
        return node.parentID.flatMap({ unit($0) })
    }

    /// The chain of units told when work in `id` is late: its supervisors' unit, then
    /// that unit's supervisors' unit, and so on up to the root (no unit twice).
    public func escalationChain(of id: String) -> [OrgUnit] {
        var chain: [OrgUnit] = []
        var seen: Set<String> = [id]
        var current = supervisorUnit(of: id)
        while let node = current, seen.insert(node.id).inserted {
            chain.append(node)
            current = supervisorUnit(of: node.id)
        }
        return chain
    }
}
