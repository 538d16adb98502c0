import ArgumentParser
import Dispatch
import Foundation
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTransport
import Logging

/// `leagueops serve`: runs the bot until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the bot: webhooks, timers and the outbox.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Listen on this port instead of the configured one (0 picks a free port).")
    var port: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        var config = try loadOrExit(options.config)
        if let port { config.server.port = port }
        if config.observability.logFormat == "json" { LoggingSystem.bootstrap { JSONLogHandler(label: $0) } } else { LoggingSystem.bootstrap(StreamLogHandler.standardError) }
        var logger = Logger(label: "leagueops")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // One writer per store: held until the process ends.
        let lock = try orExit(75, "leagueops serve: ") { try StoreLock(databasePath: config.store.sqlitePath) }
        let store = try SQLiteStore(path: config.store.sqlitePath, synchronous: config.store.synchronous)
        try await store.setMetaValue("writer", "serve")
        let app = try orExit(78) { try LeagueApp(config: config, store: store, transport: AsyncHTTPClientTransport(), logger: logger) }
        logger.info("starting", metadata: ["units": "\(config.org.units.count)", "store": "\(config.store.sqlitePath)", "synchronous": "\(config.store.synchronous)"])
        // SIGHUP reloads org.yaml (validated first; a bad file is reported and the running org stays).
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let reloadLogger = logger
        hangup.setEventHandler {
            Task {
                do {
                    let report = try await app.reloadOrg()
                    reloadLogger.notice("org reloaded", metadata: ["report": "\(report)"])
                    printError("\(report)")
                } catch {
                    reloadLogger.error("org reload refused; the running org stays", metadata: ["error": "\(error)"])
                    printError("org reload refused; the running org stays.\n\(error)")
                }
            }
        }
        hangup.resume()
        defer { hangup.cancel() }
        let host = config.server.host
        let runningLogger = logger
        try await app.application(onServerRunning: { channel in
            let port = channel.localAddress?.port ?? 0
            runningLogger.notice("serving", metadata: ["address": "\(host):\(port)"])
            // Written unbuffered: scripts and the benchmark wait for this line.
            FileHandle.standardOutput.write(Data("LeagueOps listening on http://\(host):\(port)\n".utf8))
        }).runService()
        withExtendedLifetime(lock) {}
    }
}

/// Loads the config or prints every problem and exits with status 78 (configuration error).
func loadOrExit(_ path: String) throws -> BotConfig {
    try orExit(78) { try ConfigLoader.load(path: path) }
}

/// `leagueops check`: validates the configuration.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate the configuration and report every problem with file and line.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try loadOrExit(options.config)
        var problems: [String] = []
        for (name, settings) in config.platforms {
            do { _ = try PlatformFactory.make(name: name, settings: settings) } catch { problems.append("\(config.file): \(error.description)") }
        }
        let paths = SendPaths.report(config: config)
        problems += paths.problems
        guard problems.isEmpty else {
            throw failure("The configuration has problems:\n" + problems.map { "  " + $0 }.joined(separator: "\n"), exit: 78)
        }
        for warning in config.warnings { print("warning: \(warning)") }
        let tiers = Dictionary(grouping: config.org.units, by: \.tier).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
        for line in paths.lines { print(line) }
        print("OK: \(config.org.units.count) units (\(tiers)), \(config.catalogue.count) commands, platforms: \(config.platforms.keys.sorted().joined(separator: ", ")).")
    }
}

/// `leagueops org generate`: writes a tree of any size.
struct Org: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Org tree tools.", subcommands: [Generate.self, ImportRoster.self, Codes.self, ResolveIDs.self, Status.self, Export.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a generated org.yaml (the real district: --towns 15 --communities 109 --grids 1034).")

        @Option var towns = 15
        @Option var communities = 109
        @Option var grids = 1034
        @Option(help: "Platform every group is bound to.") var platform = "generic"

        func validate() throws {
            guard towns > 0, communities >= towns, grids >= communities, grids <= 1_000_000 else {
                throw ValidationError("need towns > 0, communities ≥ towns, grids ≥ communities (at most 1,000,000)")
            }
        }

        func run() async throws {
            print(OrgGenerator.yaml(towns: towns, communities: communities, grids: grids, platform: platform), terminator: "")
        }
    }
}
