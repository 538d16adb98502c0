import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging

/// Builds the stream drivers for the platforms whose `mode` opens a connection.
enum ConnectionFactory {
    /// - Throws: `ConfigError` naming the platform key to fix.
    static func drivers(config: BotConfig, transport: any HTTPTransport, push: PushIngest,
                        adapters: [String: any PlatformAdapter], logger: Logger) throws(ConfigError) -> [any StreamDriver] {
        var drivers: [any StreamDriver] = []
        var problems: [ConfigProblem] = []
        for name in config.platforms.keys.sorted() {
            let settings = config.platforms[name] ?? [:]
            do {
                let connection = try ConnectionSettings.parse(platform: name, settings: settings)
                guard connection.mode.isConnection else { continue }
                switch name {
                case "dingtalk":
                    guard let adapter = adapters[name] as? DingTalkAdapter, let app = adapter.app else {
                        throw PlatformSettingError(platform: name, key: "mode", problem: "stream needs client_id and client_secret")
                    }
                    let policy = ConnectionPolicy(keepalive: connection.keepalive, deadAfter: connection.deadAfter,
                                                  bootstrapTimeout: connection.timeout, initialBackoff: connection.backoff)
                    drivers.append(DingTalkStreamDriver(adapter: adapter, app: app, policy: policy, transport: transport,
                                                        push: push, clock: push.engine.clock, logger: logger))
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

extension StreamDriver {
    /// The lease's name in the store; one holder per name.
    public var leaseName: String { name }
}
