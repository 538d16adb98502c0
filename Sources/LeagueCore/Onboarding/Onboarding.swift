import Foundation

/// `onboarding:` in leagueops.yaml.
public struct OnboardingSettings: Sendable, Hashable {
    /// How long a binding code printed by `leagueops org codes` stays valid (default 14 days).
    public var codeTTL: Double = 14 * 86_400
    /// When the weekly notice of units still without a bound group goes out (`onboarding.unbound_notice`,
    /// e.g. `mon 09:00`); nil (the default, `off`) sends none.
    public var unboundNotice: WeeklyTime?

    public init() {}
}

/// A chat bound to a unit with a code (`/绑定`), as kept in the store.
public struct ChatBindingRecord: Sendable, Hashable {
    public var platform: String
    public var chat: String
    public var unitID: String
    public var boundAt: Date
    /// The platform user id of whoever sent the code.
    public var boundBy: String

    public init(platform: String, chat: String, unitID: String, boundAt: Date, boundBy: String) {
        self.platform = platform
        self.chat = chat
        self.unitID = unitID
        self.boundAt = boundAt
        self.boundBy = boundBy
    }
}

/// A platform user id a member registered for themselves (`/登记`), as kept in the store.
public struct MemberIDRecord: Sendable, Hashable {
    public var platform: String
    public var userID: String
    public var memberID: String
    public var registeredAt: Date

    public init(platform: String, userID: String, memberID: String, registeredAt: Date) {
        self.platform = platform
        self.userID = userID
        self.memberID = memberID
        self.registeredAt = registeredAt
    }
}

/// A binding code as kept in the store: only its hash.
public struct BindingCodeRecord: Sendable, Hashable {
    public var hash: String
    public var unitID: String
    public var createdAt: Date
    public var expiresAt: Date
    public var usedAt: Date?
    /// `platform:chat` the code was used in.
    public var usedIn: String?

    public init(hash: String, unitID: String, createdAt: Date, expiresAt: Date, usedAt: Date? = nil, usedIn: String? = nil) {
        self.hash = hash
        self.unitID = unitID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.usedIn = usedIn
    }
}

/// What the bot learned in chat: chats bound with codes and members' own platform ids.
public struct LearnedBindings: Sendable, Hashable {
    public var chats: [ChatBindingRecord]
    public var members: [MemberIDRecord]

    public init(chats: [ChatBindingRecord] = [], members: [MemberIDRecord] = []) {
        self.chats = chats
        self.members = members
    }
}

/// The store's records of onboarding, inside a transaction.
public protocol OnboardingRecords {
    /// Stores new codes; unused codes issued earlier for the same units stop working.
    func issueCodes(_ codes: [BindingCodeRecord]) throws
    func bindingCode(hash: String) throws -> BindingCodeRecord?
    func markCodeUsed(hash: String, at: Date, in place: String) throws
    func learnedBindings() throws -> LearnedBindings
    /// Binds a chat to a unit; a stale learned binding of the same chat (whose unit left org.yaml) is replaced.
    func bindChat(_ binding: ChatBindingRecord) throws
    /// Removes the learned binding of a unit; returns it, or nil when there was none.
    func unbindChat(unitID: String) throws -> ChatBindingRecord?
    /// Binds a platform user id to a member (replacing the member's earlier id on that platform).
    func registerMemberID(_ record: MemberIDRecord) throws
}

/// The org as the engine sees it: org.yaml with what was learned in chat laid over it.
public enum OrgOverlay {
    /// Why a learned binding was not applied.
    public struct Conflict: Sendable, Hashable {
        public var zh: String
        public var en: String
    }

    /// org.yaml wins: a learned chat binding is used only for a unit without a chat in org.yaml and a
    /// chat org.yaml does not give to another unit; a learned member id only where org.yaml has none for
    /// that member on that platform and no other member uses it. Units with a robot but no chat in
    /// org.yaml (`group: {platform: wecom, robot_key: …}`) keep their robot credentials when bound.
    public static func apply(_ learned: LearnedBindings, to configured: OrgTree) -> (tree: OrgTree, conflicts: [Conflict]) {
        var units = configured.units
        var index: [String: Int] = [:]
        for (i, unit) in units.enumerated() { index[unit.id] = i }
        var conflicts: [Conflict] = []
        for binding in learned.chats {
            guard let i = index[binding.unitID] else {
                conflicts.append(
                    Conflict(
                        zh: "群 \(binding.platform):\(binding.chat) 绑定的单位 \(binding.unitID) 已不在 org.yaml 中",
                        en: "chat \(binding.platform):\(binding.chat) is bound to unit \(binding.unitID), which is no longer in org.yaml"))
                continue
            }
            if let group = units[i].group, !group.chat.isEmpty {
                conflicts.append(
                    Conflict(
                        zh: "单位 \(binding.unitID) 在 org.yaml 中绑定了 \(group.platform):\(group.chat)，以文件为准（群 \(binding.chat) 的绑定不生效）",
                        en: "unit \(binding.unitID) is bound to \(group.platform):\(group.chat) in org.yaml, which wins over chat \(binding.chat)"))
                continue
            }
            if let other = configured.unit(platform: binding.platform, chat: binding.chat), other.id != binding.unitID {
                conflicts.append(
                    Conflict(
                        zh: "群 \(binding.platform):\(binding.chat) 在 org.yaml 中属于 \(other.id)，以文件为准",
                        en: "chat \(binding.platform):\(binding.chat) belongs to \(other.id) in org.yaml, which wins"))
                continue
            }
            var credentials: [String: String] = [:]
            if let group = units[i].group, group.platform == binding.platform { credentials = group.credentials }
            units[i].group = GroupBinding(platform: binding.platform, chat: binding.chat, credentials: credentials)
        }
        // A group with a robot but no chat yet is not bound: nothing is sent to it until it is.
        for i in units.indices where units[i].group?.chat.isEmpty == true { units[i].group = nil }
        var memberPlace: [String: (unit: Int, member: Int)] = [:]
        for (u, unit) in units.enumerated() {
            for (m, member) in unit.members.enumerated() where memberPlace[member.id] == nil { memberPlace[member.id] = (u, m) }
        }
        for record in learned.members {
            guard let place = memberPlace[record.memberID] else {
                conflicts.append(Conflict(zh: "登记的成员 \(record.memberID) 已不在 org.yaml 中", en: "registered member \(record.memberID) is no longer in org.yaml"))
                continue
            }
            if let other = configured.member(platform: record.platform, userID: record.userID), other.id != record.memberID {
                conflicts.append(
                    Conflict(
                        zh: "账号 \(record.platform):\(record.userID) 在 org.yaml 中属于 \(other.id)，以文件为准",
                        en: "account \(record.platform):\(record.userID) belongs to \(other.id) in org.yaml, which wins"))
                continue
            }
            if let written = units[place.unit].members[place.member].ids[record.platform], written != record.userID,
                configured.member(record.memberID)?.ids[record.platform] != nil
            {
                conflicts.append(
                    Conflict(
                        zh: "成员 \(record.memberID) 在 org.yaml 中的 \(record.platform) 账号是 \(written)，以文件为准",
                        en: "member \(record.memberID) has \(record.platform) id \(written) in org.yaml, which wins"))
                continue
            }
            units[place.unit].members[place.member].ids[record.platform] = record.userID
        }
        return (OrgTree(units: units, tiers: configured.tiers), conflicts)
    }
}

/// Mobile numbers of mainland China as written on rosters: checked, compared and masked.
public enum Mobile {
    /// Digits only, without a leading +86 / 0086; nil when it is not an 11-digit number starting with 1.
    public static func normalized(_ text: String) -> String? {
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var index = 0
        for byte in text.utf8 {
            defer { index += 1 }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(byte)
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"): continue
            case UInt8(ascii: "+") where digits.isEmpty: continue
            default: return nil
            }
        }
        if digits.count == 13, digits.starts(with: Array("86".utf8)) { digits.removeFirst(2) }
        if digits.count == 15, digits.starts(with: Array("0086".utf8)) { digits.removeFirst(4) }
        guard digits.count == 11, digits.first == UInt8(ascii: "1") else { return nil }
        return String(decoding: digits, as: UTF8.self)
    }

    /// `13800000000` → `138****0000`; anything else keeps only its last 4 characters.
    public static func masked(_ text: String) -> String {
        let digits = normalized(text) ?? text
        guard digits.count > 7 else { return String(repeating: "*", count: max(0, digits.count - 4)) + digits.suffix(4) }
        return digits.prefix(3) + "****" + digits.suffix(4)
    }

    /// Splits `/登记` text into name and mobile: the mobile is the last word (or last words, when the
    /// number is written with spaces), the name everything before it.
    public static func splitNameAndMobile(_ text: String) -> (name: String, mobile: String)? {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count >= 2 else { return nil }
        for count in 1..<words.count {
            let mobile = words.suffix(count).joined()
            if normalized(mobile) != nil {
                let name = words.dropLast(count).joined(separator: " ")
                return name.isEmpty ? nil : (name, mobile)
            }
        }
        return nil
    }

    /// The text with its digits masked as a mobile is (`/登记 张三 138 0000 0000` → `/登记 张三 138 **** 0000`):
    /// every ASCII digit but the first 3 and the last 4 becomes `*`; a text with fewer than 8 digits has
    /// all but its last 4 masked. For what is kept in the store of a `/登记` message.
    public static func maskDigits(in text: String) -> String {
        let total = text.filter { $0.isASCII && $0.isNumber }.count
        guard total > 0 else { return text }
        let keepFront = total >= 8 ? 3 : 0
        var seen = 0
        var result = ""
        var lastWasStar = false
        for character in text {
            guard character.isASCII && character.isNumber else {
                result.append(character)
                lastWasStar = false
                continue
            }
            defer { seen += 1 }
            if seen < keepFront || seen >= total - 4 {
                result.append(character)
                lastWasStar = false
            } else if total >= 8 {
                // 138****0000: four stars, whatever the length in between.
                if !lastWasStar { result += "****" }
                lastWasStar = true
            } else {
                result.append("*")
            }
        }
        return result
    }
}

/// Binding codes: short, in characters nobody confuses (no 0/O, 1/I/L), written `K7QM-3XPA`.
public enum BindingCodeText {
    public static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    public static let length = 8

    /// A new random code (the generator is injected for tests; the default is the system's CSPRNG).
    public static func generate(using generator: inout some RandomNumberGenerator) -> String {
        let characters = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
        return String(characters.prefix(4)) + "-" + String(characters.suffix(length - 4))
    }

    /// What a member typed, as the code is stored: upper case, without dashes and spaces; nil when it
    /// cannot be a code (wrong length or characters).
    public static func normalized(_ text: String) -> String? {
        let cleaned = text.uppercased().filter { $0 != "-" && $0 != " " && $0 != "－" }
        guard cleaned.count == length, cleaned.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return cleaned
    }
}

/// Unit paths for people: 任城区 › 解放路街道 › 解放路社区 › 第3网格.
extension OrgTree {
    public func path(of id: String) -> String {
        lineage(of: id).reversed().map(\.name).joined(separator: " › ")
    }
}
