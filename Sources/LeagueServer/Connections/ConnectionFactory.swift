import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging

/// Builds the stream drivers for the platforms whose `mode` opens a connection.
enum ConnectionFactory {
    /// - Throws: `ConfigError` naming the platform key to fix.
    static func drivers(
        config: BotConfig, transport: any HTTPTransport, push: PushIngest,
        adapters: [String: any PlatformAdapter], logger: Logger
    ) throws(ConfigError) -> [any StreamDriver] {
        var drivers: [any StreamDriver] = []
        var problems: [ConfigProblem] = []
        for name in config.platforms.keys.sorted() {
            let settings = config.platforms[name] ?? [:]
            do {
                let connection = try ConnectionSettings.parse(platform: name, settings: settings)
                guard connection.mode.isConnection else { continue }
                let policy = ConnectionPolicy(
                    keepalive: connection.keepalive, deadAfter: connection.deadAfter, bootstrapTimeout: connection.timeout,
                    initialBackoff: connection.backoff)
                switch name {
                case "dingtalk":
                    guard let adapter = adapters[name] as? DingTalkAdapter, let app = adapter.app else {
                        throw PlatformSettingError(platform: name, key: "mode", problem: "stream needs client_id and client_secret")
                    }
                    drivers.append(
                        DingTalkStreamDriver(
                            adapter: adapter, app: app, policy: policy, transport: transport,
                            push: push, clock: push.engine.clock, logger: logger))
                case "feishu":
                    guard let adapter = adapters[name] as? FeishuAdapter else { continue }
                    drivers.append(
                        FeishuDriver(
                            policy: policy, appID: settings["app_id"] ?? "", appSecret: settings["app_secret"] ?? "",
                            baseURL: try ConnectionSettings.url(settings, platform: name, key: "base_url", default: FeishuAdapter.defaultBaseURL, secure: "https"),
                            adapter: adapter, transport: transport, push: push, logger: logger
                        ))
                case "wecom":
                    guard let adapter = adapters[name] as? WeComAdapter else { continue }
                    drivers.append(
                        WeComDriver(
                            policy: policy, botID: settings["bot_id"] ?? "", botSecret: settings["bot_secret"] ?? "",
                            wsURL: try ConnectionSettings.url(settings, platform: name, key: "ws_url", default: "wss://openws.work.weixin.qq.com", secure: "wss"),
                            adapter: adapter, push: push, logger: logger
                        ))
                default:
                    throw PlatformSettingError(platform: name, key: "mode", problem: "\(connection.mode.rawValue) is not available for \(name) in this build")
                }
            } catch {
                problems.append(ConfigProblem(file: config.file, line: nil, message: "\(error)"))
            }
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        return drivers
    }
}

extension ConnectionFactory {
    /// The platform apps that post for bindings naming only the chat: the Feishu app whenever
    /// app_id / app_secret are configured (whichever way its events arrive), the WeCom AI bot over
    /// its long connection.
    static func appSenders(
        config: BotConfig, drivers: [any StreamDriver], transport: any HTTPTransport,
        clock: any WallClock
    ) -> [String: any AppSender] {
        var senders: [String: any AppSender] = [:]
        if let settings = config.platforms["feishu"], let appID = settings["app_id"], !appID.isEmpty,
            let secret = settings["app_secret"], !secret.isEmpty
        {
            let base =
                (try? ConnectionSettings.url(settings, platform: "feishu", key: "base_url", default: FeishuAdapter.defaultBaseURL, secure: "https"))
                ?? FeishuAdapter.defaultBaseURL
            senders["feishu"] = FeishuAppSender(transport: transport, baseURL: base, appID: appID, appSecret: secret, clock: clock)
        }
        for driver in drivers {
            if let sender = driver as? any AppSender { senders[sender.platform] = sender }
        }
        return senders
    }
}

extension StreamDriver {
    /// The lease's name in the store; one holder per name.
    public var leaseName: String { name }
}
