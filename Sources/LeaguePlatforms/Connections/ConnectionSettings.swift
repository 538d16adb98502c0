import Foundation
import LeagueCore

/// How a platform's messages reach the bot.
public enum ConnectionMode: String, Sendable, Hashable {
    /// The platform POSTs to `/webhook/<platform>` (needs a public HTTPS address).
    case webhook
    /// DingTalk Stream mode: the bot opens a WebSocket to the platform.
    case stream
    /// Feishu / WeCom 长连接: the bot opens a WebSocket to the platform.
    case longConnection = "long_connection"

    /// The modes each platform offers; the first is the default.
    public static func allowed(for platform: String) -> [ConnectionMode] {
        switch platform {
        case "dingtalk": [.webhook, .stream]
        case "feishu", "wecom": [.webhook, .longConnection]
        default: [.webhook]
        }
    }

    /// True for the modes in which the bot holds a connection instead of receiving webhooks.
    public var isConnection: Bool { self != .webhook }
}

/// The connection keys of `platforms.<name>`: `mode`, `keepalive`, `dead_after`, `timeout`, and URL checks.
///
/// Every URL a connection uses is configurable so tests can point at loopback; `ws://` and
/// `http://` are accepted only for loopback hosts (127.0.0.0/8, ::1, localhost), so a secret or a
/// push never crosses a network in clear text.
public struct ConnectionSettings: Sendable, Hashable {
    public var platform: String
    public var mode: ConnectionMode
    /// Seconds between the client's own keepalives.
    public var keepalive: Double
    /// Seconds without any inbound frame after which the socket is declared dead.
    public var deadAfter: Double
    /// Time-out of each bootstrap HTTP call and of the WebSocket upgrade (`timeout`, default 10 s).
    public var timeout: Double = 10
    /// First reconnect delay after a failed attempt (`backoff`, default 1 s); doubles up to 60 s.
    public var backoff: Double = 1

    /// Vendor-derived defaults (see docs/platforms.md): DingTalk's Python SDK pings every 60 s; Feishu's
    /// `PingInterval` is 120 s; WeCom's SDK pings every 30 s and gives up after two missed acks.
    public static func defaults(for platform: String) -> (keepalive: Double, deadAfter: Double) {
        switch platform {
        case "dingtalk": (60, 180)
        case "feishu": (120, 150)
        case "wecom": (30, 75)
        default: (60, 180)
        }
    }

    /// Reads the connection keys of one platform.
    /// - Throws: `PlatformSettingError` naming the key and the fix.
    public static func parse(platform: String, settings: [String: String]) throws(PlatformSettingError) -> ConnectionSettings {
        let allowed = ConnectionMode.allowed(for: platform)
        var mode = allowed[0]
        if let text = settings["mode"], !text.isEmpty {
            guard let value = ConnectionMode(rawValue: text.lowercased()), allowed.contains(value) else {
                throw PlatformSettingError(
                    platform: platform, key: "mode",
                    problem: "must be \(allowed.map(\.rawValue).joined(separator: " or ")), not “\(text)”")
            }
            mode = value
        }
        let defaults = defaults(for: platform)
        func seconds(_ key: String, _ fallback: Double) throws(PlatformSettingError) -> Double {
            guard let text = settings[key], !text.isEmpty else { return fallback }
            guard let value = DurationText.seconds(text), value > 0 else {
                throw PlatformSettingError(platform: platform, key: key, problem: "duration “\(text)” is not parseable; write it like 30s, 2m or 500ms")
            }
            return value
        }
        let keepalive = try seconds("keepalive", defaults.keepalive)
        let deadAfter = try seconds("dead_after", defaults.deadAfter)
        guard deadAfter > keepalive else {
            throw PlatformSettingError(
                platform: platform, key: "dead_after",
                problem: "must be longer than keepalive (\(keepalive) s), or a healthy but quiet socket is declared dead")
        }
        var result = ConnectionSettings(platform: platform, mode: mode, keepalive: keepalive, deadAfter: deadAfter)
        result.timeout = try seconds("timeout", 10)
        result.backoff = try seconds("backoff", 1)
        return result
    }

    /// A URL setting: `https://`/`wss://` anywhere, `http://`/`ws://` only for a loopback host.
    /// - Parameters:
    ///   - secure: the allowed secure scheme (`https` or `wss`); its plain twin is allowed on loopback.
    /// - Throws: `PlatformSettingError` naming the key.
    public static func url(
        _ settings: [String: String], platform: String, key: String, default fallback: String,
        secure: String
    ) throws(PlatformSettingError) -> String {
        let value = settings[key].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        let plain = secure == "https" ? "http" : "ws"
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw PlatformSettingError(platform: platform, key: key, problem: "“\(value)” is not a \(secure):// URL")
        }
        if scheme == secure { return value.hasSuffix("/") ? String(value.dropLast()) : value }
        guard scheme == plain else {
            throw PlatformSettingError(platform: platform, key: key, problem: "must start with \(secure)://, not \(scheme)://")
        }
        guard isLoopback(host) else {
            throw PlatformSettingError(
                platform: platform, key: key,
                problem: "\(plain):// is accepted only for loopback hosts (tests); use \(secure):// for \(host)")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    /// 127.0.0.0/8, ::1 and localhost.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
