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
    public static let knownPlatforms = ["generic", "wecom", "dingtalk", "feishu", "console"]

    /// Makes the adapter for one platform from its settings.
    /// - Throws: `PlatformSettingError` naming the key to fix.
    public static func make(name: String, settings: [String: String]) throws(PlatformSettingError) -> any PlatformAdapter {
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
        switch name {
        case "generic":
            return GenericAdapter(
                secret: try required("secret"),
                outboundURL: settings["outbound_url"] ?? "http://127.0.0.1:9000/messages",
                outboundSecret: settings["outbound_secret"].flatMap { $0.isEmpty ? nil : $0 }
            )
        case "console":
            return ConsoleAdapter()
        case "wecom":
            // token / aes_key: the callback settings of the 智能机器人 (path `wecom`); app_token /
            // app_aes_key: the self-built app's callback (path `wecom-app`) when it differs.
            let token = try required("token")
            guard let bot = WeComCrypto(token: token, encodingAESKey: try required("aes_key")) else {
                throw PlatformSettingError(platform: name, key: "aes_key", problem: "must be the 43-character EncodingAESKey of the callback settings")
            }
            var app = bot
            if settings["app_token"]?.isEmpty == false || settings["app_aes_key"]?.isEmpty == false {
                guard let crypto = WeComCrypto(
                    token: settings["app_token"].flatMap { $0.isEmpty ? nil : $0 } ?? token,
                    encodingAESKey: settings["app_aes_key"].flatMap { $0.isEmpty ? nil : $0 } ?? (settings["aes_key"] ?? "")
                ) else {
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
            return DingTalkAdapter(
                appSecret: try required("app_secret"), baseURL: try baseURL(DingTalkAdapter.defaultBaseURL),
                botName: settings["bot_name"], maxSkewMS: skewMS, corpID: settings["corp_id"], robotCode: settings["robot_code"]
            )
        case "feishu":
            let plainAllowed = settings["insecure_plain"]?.lowercased() == "true"
            if settings["encrypt_key"]?.isEmpty != false, !plainAllowed {
                throw PlatformSettingError(platform: name, key: "encrypt_key", problem: "is required: without it Feishu callbacks carry no signature and no time window, only the static verification token (set the Encrypt Key of the event subscription, or `insecure_plain: true` to accept that)")
            }
            return FeishuAdapter(
                verificationToken: try required("verification_token"), encryptKey: settings["encrypt_key"],
                baseURL: try baseURL(FeishuAdapter.defaultBaseURL), botOpenID: settings["bot_open_id"], botName: settings["bot_name"]
            )
        default:
            throw PlatformSettingError(platform: name, key: "", problem: "unknown platform (known: \(knownPlatforms.joined(separator: ", ")))")
        }
    }
}

/// The built-in console platform of `leagueops chat`: nothing goes over the network.
public struct ConsoleAdapter: PlatformAdapter {
    public let name = "console"
    public init() {}

    public func decode(_ request: InboundRequest, path: String, now: Date) throws(InboundRejection) -> InboundOutcome {
        throw InboundRejection(status: 404, reason: "the console platform has no webhook")
    }

    public func encode(_ message: OutboundMessage, now: Date) throws(EncodeError) -> OutboundRequest {
        OutboundRequest(url: "console:\(message.group.chat)", body: Data(message.text.utf8))
    }

    public func classify(_ response: OutboundResponse) -> DeliveryOutcome { .delivered }
}
