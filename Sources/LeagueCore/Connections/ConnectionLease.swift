import Foundation

/// The right to hold one platform connection (WeCom allows one socket per bot; DingTalk's rules are
/// unclear), granted by the store so that a later multi-instance store hands it to exactly one instance.
///
/// The fencing token grows by one on every new grant (never on a renewal): an instance that lost the
/// lease while paused holds an older token, and a store that checks tokens refuses its late writes.
public struct ConnectionLease: Sendable, Hashable {
    /// The connection's name (`dingtalk:<client_id>`, `wecom:<bot_id>`).
    public var name: String
    /// Who holds it (an instance id: host and process).
    public var holder: String
    /// The fencing token of this grant.
    public var token: Int64
    public var expiresAt: Date

    public init(name: String, holder: String, token: Int64, expiresAt: Date) {
        self.name = name
        self.holder = holder
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// Leases in the store.
public protocol LeaseStore: Sendable {
    /// Grants the lease to `holder` until `now + ttl` when it is free, expired or already held by
    /// `holder` (a renewal keeps the token); answers nil when another holder has it.
    /// - Throws: store errors.
    func acquireLease(_ name: String, holder: String, now: Date, ttl: Double) async throws -> ConnectionLease?
    /// Gives the lease up, if `holder` still holds it with `token`.
    /// - Throws: store errors.
    func releaseLease(_ name: String, holder: String, token: Int64) async throws
}

/// The pure rule both the SQLite store and the in-memory one apply.
public enum LeaseRule {
    /// The lease after `holder` asks for it, or nil when another holder's unexpired lease stands.
    public static func grant(current: ConnectionLease?, name: String, holder: String, now: Date, ttl: Double) -> ConnectionLease? {
        let until = now.addingTimeInterval(ttl)
        guard let current else { return ConnectionLease(name: name, holder: holder, token: 1, expiresAt: until) }
        if current.holder == holder && current.expiresAt > now {
            return ConnectionLease(name: name, holder: holder, token: current.token, expiresAt: until)
        }
        guard current.expiresAt <= now else { return nil }
        return ConnectionLease(name: name, holder: holder, token: current.token + 1, expiresAt: until)
    }
}
