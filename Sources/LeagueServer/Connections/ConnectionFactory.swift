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
