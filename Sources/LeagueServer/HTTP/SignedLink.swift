import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms

/// Signs and checks the bot's links to its web pages (the dashboard's and the minutes pages'): an HMAC-SHA256 over a purpose, the fields the link grants and its expiry. The signature is
/// what makes a link valid; changing any field, or the expiry, breaks it.
public struct SignedLink: Sendable {
    /// The HMAC key.
    public let key: String

    public init(key: String) { self.key = key }

    /// What checking a link found.
    public enum Verdict: Sendable, Hashable {
        case valid
        /// The signature matched but the link is past its expiry.
        case expired
        /// No signature, or one that does not match (an altered link).
        case invalid
    }

    /// The signature of a link (32 hex digits).
    /// - Parameters:
    ///   - purpose: what the link is for (`dashboard`, `minutes`), so a signature of one kind never opens another.
    ///   - fields: what the link grants (a unit, a member).
    ///   - expires: Unix seconds after which the link no longer works; nil for a link that does not expire.
    public func signature(_ purpose: String, _ fields: [String], expires: Int?) -> String {
        let message = ([purpose] + fields + [expires.map(String.init) ?? "-"]).joined(separator: "\u{1F}")
        return String(Bytes.hex(Bytes.hmacSHA256(key: Array(key.utf8), message: Array(message.utf8))).prefix(32))
    }

    /// Checks a link's signature, then its expiry (constant-time comparison).
    public func check(_ given: String?, _ purpose: String, _ fields: [String], expires: Int?, now: Date) -> Verdict {
        let expected = signature(purpose, fields, expires: expires)
        guard let given, Bytes.constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else { return .invalid }
        if let expires, now.timeIntervalSince1970 >= Double(expires) { return .expired }
        return .valid
    }

    /// The key name in the store.
    static let storedKeyName = "link-key"

    /// The key of the bot's links: `deliberation.link_secret`, else a random key kept in the store
    /// (created here on first use, inside the caller's transaction).
    public static func key(_ config: BotConfig, tx: any StoreTransaction) throws -> String {
        if let secret = config.deliberation.linkSecret { return secret }
        if let stored = try tx.deliberationValue(storedKeyName) { return stored }
        let key = UUID().uuidString + UUID().uuidString
        try tx.setDeliberationValue(storedKeyName, key)
        return key
    }

    /// The key as a reader sees it (nil before any link was made: then no link can be valid).
    public static func key(_ config: BotConfig, reader: any StoreReader) throws -> String? {
        if let secret = config.deliberation.linkSecret { return secret }
        return try reader.deliberationValue(storedKeyName)
    }

    /// `server.public_url` without trailing slashes; nil when unset.
    public static func base(_ config: BotConfig) -> String? {
        guard var base = config.server.publicURL, !base.isEmpty else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

/// A minutes link's grant (`/minutes/<unit>/<month>?subtree=1&m=…&e=…&sig=…`): one unit's minutes
/// of one month (with the units below when `subtree`), issued to a member (who asked for it in
/// chat or on the dashboard), until an expiry (`deliberation.link_ttl`). Signed by `SignedLink`
/// with the purpose `minutes`, so a dashboard signature never opens minutes nor the reverse.
public struct MinutesPass: Sendable, Hashable {
    public var unitID: String
    public var month: String
    public var subtree: Bool
    /// The member the link was issued to; nil when issued by no member (kept in the signed text as `-`).
    public var memberID: String?
    /// Unix seconds.
    public var expires: Int
    public var signature: String

    static let purpose = "minutes"

    /// What the signature covers besides the purpose and the expiry.
    public var fields: [String] { [unitID, month, subtree ? "1" : "0", memberID ?? "-"] }

    /// Issues a pass valid for `ttl` seconds from `now`, signed with `link`.
    public static func issue(unitID: String, month: String, subtree: Bool, memberID: String?, now: Date, ttl: Double, link: SignedLink) -> MinutesPass {
        var pass = MinutesPass(
            unitID: unitID, month: month, subtree: subtree, memberID: memberID,
            expires: Int((now.timeIntervalSince1970 + ttl).rounded(.down)), signature: "")
        pass.signature = link.signature(purpose, pass.fields, expires: pass.expires)
        return pass
    }

    /// The pass of a request: unit and month from the path, the rest from the query; nil when the
    /// expiry is missing or not a number.
    public static func from(unitID: String, month: String, query: [String: String]) -> MinutesPass? {
        guard let expires = query["e"].flatMap(Int.init) else { return nil }
        return MinutesPass(
            unitID: unitID, month: month, subtree: query["subtree"] == "1", memberID: query["m"].flatMap { $0.isEmpty ? nil : $0 },
            expires: expires, signature: query["sig"] ?? "")
    }

    public func verdict(_ link: SignedLink, now: Date) -> SignedLink.Verdict {
        link.check(signature, Self.purpose, fields, expires: expires, now: now)
    }

    /// The path of the page: `/minutes/<unit>/<month>?[subtree=1&][m=…&]e=…&sig=…`.
    public var path: String {
        let unit = unitID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? unitID
        var query = subtree ? "subtree=1&" : ""
        if let memberID { query += "m=\(DashboardPass.encode(memberID))&" }
        return "/minutes/\(unit)/\(month)?\(query)e=\(expires)&sig=\(signature)"
    }

    /// A short, non-secret name of the link for the audit log (the first 8 hex digits of its signature).
    public var auditName: String { "link:" + signature.prefix(8) }
}
