import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging

/// The long connections and platform apps the config asks for (`mode: long_connection`).
struct ConnectionSetup: Sendable {
    var feishu: FeishuConnection?
    var wecom: WeComConnection?
    var appSenders: [String: any AppSender] = [:]
    var statuses: [String: LongConnectionStatus] = [:]

    /// Reads `platforms.feishu` / `platforms.wecom`; every problem names the key to fix.
    static func make(config: BotConfig, adapters: [String: any PlatformAdapter], transport: any HTTPTransport,
                     engine: Engine, ingestor: Ingestor, problems: inout [ConfigProblem]) -> ConnectionSetup {
        var setup = ConnectionSetup()
        func problem(_ platform: String, _ key: String, _ text: String) {
            problems.append(ConfigProblem(file: config.file, line: nil, message: "platforms.\(platform).\(key): \(text)"))
        }
        func seconds(_ platform: String, _ key: String, _ settings: [String: String]) -> Double? {
            guard let text = settings[key], !text.isEmpty else { return nil }
            guard let value = DurationText.seconds(text), value > 0 else {
                problem(platform, key, "must be a duration like 30s or 2m")
                return nil
            }
            return value
        }
        func url(_ platform: String, _ key: String, _ settings: [String: String], default fallback: String, secure: String, plain: String) -> String {
            let value = settings[key].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
            guard let components = URLComponents(string: value), components.host?.isEmpty == false,
                  components.scheme == secure || (components.scheme == plain && SettingsCheck.isLoopback(value)) else {
                problem(platform, key, "must be a \(secure):// URL (\(plain):// only for 127.0.0.1 / localhost)")
                return fallback
            }
            return value
        }
        if let settings = config.platforms["feishu"], let adapter = adapters["feishu"] as? FeishuAdapter {
            let mode = settings["mode"] ?? "webhook"
            if mode != "webhook" && mode != "long_connection" { problem("feishu", "mode", "must be webhook or long_connection") }
            if let appID = settings["app_id"], !appID.isEmpty, let secret = settings["app_secret"], !secret.isEmpty {
                let base = url("feishu", "base_url", settings, default: FeishuAdapter.defaultBaseURL, secure: "https", plain: "http")
                // The app speaks in every group it is in, whichever way events arrive.
                setup.appSenders["feishu"] = FeishuAppSender(transport: transport, baseURL: base, appID: appID, appSecret: secret, clock: engine.clock)
                if mode == "long_connection" {
                    var connection = FeishuConnectionSettings(appID: appID, appSecret: secret, baseURL: base)
                    connection.keepalive = seconds("feishu", "keepalive", settings)
                    connection.deadAfter = seconds("feishu", "dead_after", settings)
                    if let timeout = seconds("feishu", "bootstrap_timeout", settings) { connection.bootstrapTimeout = timeout }
                    if let cap = seconds("feishu", "max_backoff", settings) { connection.backoff.cap = cap }
                    if let base = seconds("feishu", "min_backoff", settings) { connection.backoff.base = base }
                    setup.feishu = FeishuConnection(settings: connection, adapter: adapter, transport: transport, engine: engine, ingestor: ingestor)
                    setup.statuses["feishu"] = LongConnectionStatus(name: "feishu")
                }
            } else if mode == "long_connection" {
                problem("feishu", "app_id", "app_id and app_secret are required with mode: long_connection")
            }
        }
        if let settings = config.platforms["wecom"], let adapter = adapters["wecom"] as? WeComAdapter {
            let mode = settings["mode"] ?? "webhook"
            if mode != "webhook" && mode != "long_connection" { problem("wecom", "mode", "must be webhook or long_connection") }
            if mode == "long_connection" {
                if let botID = settings["bot_id"], !botID.isEmpty, let secret = settings["bot_secret"], !secret.isEmpty {
                    let ws = url("wecom", "ws_url", settings, default: "wss://openws.work.weixin.qq.com", secure: "wss", plain: "ws")
                    var connection = WeComConnectionSettings(botID: botID, botSecret: secret, wsURL: ws)
                    if let value = seconds("wecom", "keepalive", settings) { connection.keepalive = value }
                    if let value = seconds("wecom", "dead_after", settings) { connection.deadAfter = value }
                    if let value = seconds("wecom", "connect_timeout", settings) { connection.connectTimeout = value }
                    if let cap = seconds("wecom", "max_backoff", settings) { connection.backoff.cap = cap }
                    if let base = seconds("wecom", "min_backoff", settings) { connection.backoff.base = base }
                    let wecom = WeComConnection(settings: connection, adapter: adapter, engine: engine, ingestor: ingestor)
                    setup.wecom = wecom
                    setup.appSenders["wecom"] = wecom
                    setup.statuses["wecom"] = LongConnectionStatus(name: "wecom")
                } else {
                    problem("wecom", "bot_id", "bot_id and bot_secret are required with mode: long_connection")
                }
            }
        }
        return setup
    }

    /// The supervised services of the configured connections.
    func services() -> [LongConnectionService] {
        var out: [LongConnectionService] = []
        if let feishu, let status = statuses["feishu"] { out.append(feishu.service(status: status)) }
        if let wecom, let status = statuses["wecom"] { out.append(wecom.service(status: status)) }
        return out
    }
}
