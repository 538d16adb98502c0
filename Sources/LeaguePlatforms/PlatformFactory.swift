import Foundation
import LeagueCore

/// A platform setting that is missing or wrong, reported by `leagueops check` with the config line.
public struct PlatformSettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var platform: String
    public var key: String
    public var problem: String

    public init(platform: String, key: String, problem: String) {
        self.platform = platform
        self.key = key
        self.problem = problem
    }

    public var description: String { "platforms.\(platform).\(key): \(problem)" }
}

/// Builds adapters from the `platforms:` section of leagueops.yaml (secrets already resolved).
public enum PlatformFactory {
    /// The platform names the bot knows.
    public static let knownPlatforms = ["generic", "wecom", "dingtalk", "feishu"]

    /// The keys each platform reads (connection keys included); any other key is a typo to report.
    public static let knownKeys: [String: Set<String>] = {
        let connection: Set<String> = ["mode", "keepalive", "dead_after", "timeout", "backoff"]
        return [
            "generic": connection.union(["secret", "outbound_url", "outbound_secret"]),
            "wecom": connection.union([
                "token", "aes_key", "app_token", "app_aes_key", "corp_id", "corp_secret", "base_url", "bot_name",
                "bot_id", "bot_secret", "ws_url",
            ]),
            "dingtalk": connection.union([
                "app_secret", "base_url", "bot_name", "max_skew", "corp_id", "robot_code",
                "client_id", "client_secret", "api_base_url",
            ]),
            "feishu": connection.union([
                "app_id", "app_secret", "verification_token", "encrypt_key", "insecure_plain",
                "base_url", "bot_open_id", "bot_name",
            ]),
        ]
    }()

    /// Makes the adapter for one platform from its settings.
    /// - Throws: `PlatformSettingError` naming the key to fix (an unknown key included: a misspelt
    ///   `client_secret` must not quietly fall back to a default).
    public static func make(name: String, settings: [String: String]) throws(PlatformSettingError) -> any PlatformAdapter {
        if let known = knownKeys[name], let unknown = settings.keys.filter({ !known.contains($0) }).sorted().first {
            throw PlatformSettingError(
                platform: name, key: unknown,
                problem: "unknown key (known for \(name): \(known.sorted().joined(separator: ", ")))")
        }
        func required(_ key: String) throws(PlatformSettingError) -> String {
            guard let value = settings[key], !value.isEmpty else {
                throw PlatformSettingError(platform: name, key: key, problem: "is required")
            }
            return value
        }
        func baseURL(_ fallback: String) throws(PlatformSettingError) -> String {
            guard let value = settings["base_url"], !value.isEmpty else { return fallback }
            guard value.hasPrefix("https://") || value.hasPrefix("http://"), URL(string: value) != nil else {
                throw PlatformSettingError(platform: name, key: "base_url", problem: "must be an http(s) URL")
            }
            return value
        }
        // mode, keepalive, dead_after and the connection URLs (LeaguePlatforms/Connections).
        let connection = try ConnectionSettings.parse(platform: name, settings: settings)
        switch name {
        case "generic":
            return GenericAdapter(
                secret: try required("secret"),
                outboundURL: settings["outbound_url"] ?? "http://127.0.0.1:9000/messages",
                outboundSecret: settings["outbound_secret"].flatMap { $0.isEmpty ? nil : $0 }
            )
        case "wecom" where settings["mode"] == "long_connection" && (settings["token"] ?? "").isEmpty:
            // AI bot over its own long connection and no callback configured: no webhook route.
            _ = try required("bot_id")
            _ = try required("bot_secret")
            var adapter = WeComAdapter(
                botCrypto: WeComCrypto(token: "", encodingAESKey: String(repeating: "A", count: 43))!, corpID: settings["corp_id"] ?? "",
                baseURL: try baseURL(WeComAdapter.defaultBaseURL), botName: settings["bot_name"]
            )
            adapter.webhookEnabled = false
            adapter.aiBotID = settings["bot_id"]
            return adapter
        case "wecom":
            // token / aes_key: the callback settings of the 智能机器人 (path `wecom`); app_token /
            // app_aes_key: the self-built app's callback (path `wecom-app`) when it differs.
            let token = try required("token")
            guard let bot = WeComCrypto(token: token, encodingAESKey: try required("aes_key")) else {
                throw PlatformSettingError(platform: name, key: "aes_key", problem: "must be the 43-character EncodingAESKey of the callback settings")
            }
            var app = bot
            if settings["app_token"]?.isEmpty == false || settings["app_aes_key"]?.isEmpty == false {
                guard
                    let crypto = WeComCrypto(
                        token: settings["app_token"].flatMap { $0.isEmpty ? nil : $0 } ?? token,
                        encodingAESKey: settings["app_aes_key"].flatMap { $0.isEmpty ? nil : $0 } ?? (settings["aes_key"] ?? "")
                    )
                else {
                    throw PlatformSettingError(platform: name, key: "app_aes_key", problem: "must be the 43-character EncodingAESKey of the app's callback settings")
                }
                app = crypto
            }
            return WeComAdapter(
                botCrypto: bot, appCrypto: app, corpID: try required("corp_id"),
                baseURL: try baseURL(WeComAdapter.defaultBaseURL), botName: settings["bot_name"]
            )
        case "dingtalk":
            var skewMS = DingTalkAdapter.defaultMaxSkewMS
            if let text = settings["max_skew"], !text.isEmpty {
                guard let seconds = DurationText.seconds(text), seconds >= 1, seconds <= 3600 else {
                    throw PlatformSettingError(platform: name, key: "max_skew", problem: "must be a duration between 1s and 1h, like 5m (DingTalk's sign covers only the timestamp, so keep it short)")
                }
                skewMS = Int64(seconds * 1000)
            }
            // webhook: the robot callback is signed with the app secret. stream: client_id/client_secret
            // (= AppKey/AppSecret) open the connection and send through the app; the AppSecret also
            // verifies webhook callbacks, so app_secret defaults to client_secret.
            let appSecret: String
            var app: DingTalkApp?
            if connection.mode == .stream {
                let clientID = try required("client_id")
                let clientSecret = try required("client_secret")
                appSecret = settings["app_secret"].flatMap { $0.isEmpty ? nil : $0 } ?? clientSecret
                let api = try ConnectionSettings.url(settings, platform: name, key: "api_base_url", default: DingTalkAdapter.defaultAPIBaseURL, secure: "https")
                // robot_code: the robot's code for sending; the console shows it, usually equal to the AppKey.
                app = DingTalkApp(
                    clientID: clientID, clientSecret: clientSecret,
                    robotCode: settings["robot_code"].flatMap { $0.isEmpty ? nil : $0 } ?? clientID, apiBaseURL: api)
            } else {
                appSecret = try required("app_secret")
            }
            return DingTalkAdapter(
                appSecret: appSecret, baseURL: try baseURL(DingTalkAdapter.defaultBaseURL),
                botName: settings["bot_name"], maxSkewMS: skewMS, corpID: settings["corp_id"], robotCode: settings["robot_code"], app: app
            )
        case "feishu":
            // mode long_connection: events come over the bot's own socket, so the webhook's
            // verification token is optional (without it there is no /webhook/feishu route).
            let longConnection = settings["mode"] == "long_connection"
            if longConnection {
                _ = try required("app_id")
                _ = try required("app_secret")
            }
            let plainAllowed = settings["insecure_plain"]?.lowercased() == "true"
            let webhook = !longConnection || !(settings["verification_token"] ?? "").isEmpty
            if webhook, settings["encrypt_key"]?.isEmpty != false, !plainAllowed {
                throw PlatformSettingError(
                    platform: name, key: "encrypt_key",
                    problem:
                        "is required: without it Feishu callbacks carry no signature and no time window, only the static verification token (set the Encrypt Key of the event subscription, or `insecure_plain: true` to accept that)"
                )
            }
            var adapter = FeishuAdapter(
                verificationToken: longConnection ? (settings["verification_token"] ?? "") : try required("verification_token"), encryptKey: settings["encrypt_key"],
                baseURL: try baseURL(FeishuAdapter.defaultBaseURL), botOpenID: settings["bot_open_id"], botName: settings["bot_name"]
            )
            if let appID = settings["app_id"], !appID.isEmpty, !(settings["app_secret"] ?? "").isEmpty { adapter.appID = appID }
            return adapter
        default:
            throw PlatformSettingError(platform: name, key: "", problem: "unknown platform (known: \(knownPlatforms.joined(separator: ", ")))")
        }
    }
}
