import Foundation
import LeagueCore
import Yams

/// Everything in leagueops.yaml and the files it names, validated.
public struct BotConfig: Sendable {
    public struct Server: Sendable, Hashable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var publicURL: String?
        /// A connection that sends nothing for this long is closed (`server.idle_timeout`).
        public var idleTimeoutSeconds = 30.0
    }

    public struct Store: Sendable, Hashable {
        /// Path of the SQLite file (a relative path in leagueops.yaml is resolved against that file's folder).
        public var sqlitePath = "data/leagueops.sqlite"
        /// `full` (default) or `normal`; both keep a committed message across kill -9 of the process.
        public var synchronous = "full"
    }

    public struct Outbox: Sendable, Hashable {
        /// At least this many tries before a message may be declared dead.
        public var maxAttempts = 8
        /// A message that keeps failing is retried until it is older than this (and tried `maxAttempts` times).
        public var giveUpAfterSeconds = 86_400.0
        public var backoffSeconds = 1.0
        public var maxBackoffSeconds = 300.0
        /// How long one send may take before it counts as failed.
        public var timeoutSeconds = 10.0
    }

    /// The dashboard, metrics and log format (issue 14): `dashboard:`, `metrics:`, `log:`.
    public struct Observability: Sendable, Hashable {
        /// How long a /看板 link works.
        public var linkTTLSeconds = 86_400.0
        /// Bearer token that opens `GET /metrics` on the main port (nil: not served there).
        public var metricsToken: String?
        /// A separate port on 127.0.0.1 that serves only `GET /metrics`, without a token (nil: none).
        public var metricsPort: Int?
        /// `text` (default) or `json`: one JSON object per line with the metadata.
        public var logFormat = "text"
    }

    /// How long the store keeps what it no longer needs (`retention:`).
    public struct Retention: Sendable, Hashable {
        /// Texts of inbound messages older than this are blanked (their dedupe keys stay).
        public var inboundSeconds = 180.0 * 86_400
        /// Sent outbox rows and fired timers older than this are deleted (never less than 8 days).
        public var outboxSeconds = 30.0 * 86_400
    }

    public struct Health: Sendable, Hashable {
        /// /healthz is degraded when the oldest pending outbound message is older than this (or than
        /// the time the rate limits need for the current backlog, if that is longer).
        public var maxPendingAgeSeconds = 300.0
    }

    /// The path of the main config file.
    public var file: String
    public var retention = Retention()
    public var server = Server()
    public var store = Store()
    public var language: Language = .zh
    public var timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!
    public var tasks = TaskSettings()
    public var outbox = Outbox()
    public var health = Health()
    public var ackPhrases = ["收到", "已收到"]
    /// Names the bot answers to when @-mentioned in a group.
    public var botNames = ["团务助手", "LeagueOps", "机器人", "bot"]
    /// The deliberation-day schedule.
    public var deliberation = DeliberationSettings()
    /// Registry, demands, permissions and assessment settings.
    public var registry = RegistrySettings()
    public var observability = Observability()
    /// Settings of each platform, secrets resolved.
    public var platforms: [String: [String: String]] = [:]
    public var org: OrgTree
    public var catalogue: [CommandSpec]
    /// The file the org tree came from.
    public var orgFile: String
    /// The folder the command catalogue came from; empty when the built-in catalogue is used.
    public var commandsDirectory: String
    /// Onboarding settings (binding codes).
    public var onboarding = OnboardingSettings()
    /// What is allowed but probably wrong (a member without roles, an unencrypted Feishu callback):
    /// `leagueops check` prints these; the bot starts.
    public var warnings: [ConfigProblem] = []

    public init(file: String, org: OrgTree, catalogue: [CommandSpec], orgFile: String, commandsDirectory: String) {
        self.file = file
        self.org = org
        self.catalogue = catalogue
        self.orgFile = orgFile
        self.commandsDirectory = commandsDirectory
    }
}

/// Loads and validates the configuration.
public enum ConfigLoader {
    static let topKeys: Set<String> = [
        "server", "store", "timezone", "locale", "targets", "escalation", "outbox", "ack_phrases", "bot_names",
        "platforms", "org", "commands", "deliberation", "permissions", "demands", "assessment", "retention",
        "health", "dashboard", "metrics", "log", "onboarding",
    ]

    /// A path from leagueops.yaml: absolute as written, relative ones against the config file's folder
    /// (so `serve --config /etc/leagueops/leagueops.yaml` works from any working directory).
    public static func resolve(_ path: String, against base: URL) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        return URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL.path
    }

    /// Loads leagueops.yaml, the org file and the command catalogue it names.
    /// - Throws: `ConfigError` listing every problem with file and line.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> BotConfig {
        let mainURL = URL(fileURLWithPath: path).standardizedFileURL
        let base = mainURL.deletingLastPathComponent()
        guard let text = try? String(contentsOf: mainURL, encoding: .utf8) else {
            throw ConfigError([ConfigProblem(file: path, line: nil, message: "cannot read the file (does it exist? give another with --config)")])
        }
        let reader = YAMLReader(file: path, environment: environment)
        let root = reader.root(text: text)
        let top = reader.mapping(root, "the file")
        if let top { reader.checkKeys(top, allowed: topKeys, "leagueops.yaml") }

        var server = BotConfig.Server()
        if let map = reader.mapping(top?["server"], "server") {
            reader.checkKeys(map, allowed: ["host", "port", "public_url", "idle_timeout"], "server")
            if let value = reader.duration(map["idle_timeout"], "server.idle_timeout") { server.idleTimeoutSeconds = value }
            if let host = reader.string(map["host"], "server.host") { server.host = host }
            if let port = reader.int(map["port"], "server.port", range: 0...65535) { server.port = port }
            server.publicURL = reader.string(map["public_url"], "server.public_url")
        }
        var store = BotConfig.Store()
        if let map = reader.mapping(top?["store"], "store") {
            reader.checkKeys(map, allowed: ["sqlite", "synchronous"], "store")
            if let sqlite = reader.string(map["sqlite"], "store.sqlite") { store.sqlitePath = sqlite }
            if let mode = reader.string(map["synchronous"], "store.synchronous") {
                if ["full", "normal"].contains(mode.lowercased()) {
                    store.synchronous = mode.lowercased()
                } else {
                    reader.problem(map["synchronous"], "store.synchronous must be full or normal, not “\(mode)”")
                }
            }
        }
        var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        if let name = reader.string(top?["timezone"], "timezone") {
            if let zone = TimeZone(identifier: name) {
                timeZone = zone
            } else {
                reader.problem(top?["timezone"], "timezone “\(name)” is not a known time zone; write it like Asia/Shanghai")
            }
        }
        var language = Language.zh
        if let text = reader.string(top?["locale"], "locale") {
            if let value = Language(configValue: text) {
                language = value
            } else {
                reader.problem(top?["locale"], "locale must be zh-Hans or en, not “\(text)”")
            }
        }
        var tasks = TaskSettings(language: language, timeZone: timeZone)
        if let map = reader.mapping(top?["targets"], "targets") {
            reader.checkKeys(map, allowed: ["routine", "urgent"], "targets")
            if let value = reader.duration(map["routine"], "targets.routine") { tasks.routineSeconds = value }
            if let value = reader.duration(map["urgent"], "targets.urgent") { tasks.urgentSeconds = value }
        }
        if let map = reader.mapping(top?["escalation"], "escalation") {
            reader.checkKeys(map, allowed: ["remind_at"], "escalation")
            if let value = reader.double(map["remind_at"], "escalation.remind_at", range: 0...0.99) { tasks.remindAt = value }
        }
        var outbox = BotConfig.Outbox()
        if let map = reader.mapping(top?["outbox"], "outbox") {
            reader.checkKeys(map, allowed: ["max_attempts", "backoff", "max_backoff", "timeout", "give_up_after"], "outbox")
            if let value = reader.int(map["max_attempts"], "outbox.max_attempts", range: 1...100) { outbox.maxAttempts = value }
            if let value = reader.duration(map["backoff"], "outbox.backoff") { outbox.backoffSeconds = value }
            if let value = reader.duration(map["max_backoff"], "outbox.max_backoff") { outbox.maxBackoffSeconds = value }
            if let value = reader.duration(map["timeout"], "outbox.timeout") { outbox.timeoutSeconds = value }
            if let value = reader.duration(map["give_up_after"], "outbox.give_up_after") { outbox.giveUpAfterSeconds = value }
        }
        var health = BotConfig.Health()
        if let map = reader.mapping(top?["health"], "health") {
            reader.checkKeys(map, allowed: ["max_pending_age"], "health")
            if let value = reader.duration(map["max_pending_age"], "health.max_pending_age") { health.maxPendingAgeSeconds = value }
        }
        var platforms: [String: [String: String]] = [:]
        if let map = reader.mapping(top?["platforms"], "platforms") {
            for (key, value) in map {
                guard let name = key.string else { continue }
                var settings: [String: String] = [:]
                if let entries = reader.mapping(value, "platforms.\(name)") {
                    for (settingKey, settingValue) in entries {
                        guard let setting = settingKey.string else { continue }
                        if let resolved = reader.secret(settingValue, "platforms.\(name).\(setting)") { settings[setting] = resolved }
                    }
                }
                platforms[name] = settings
            }
        }
        var platformWarnings: [ConfigProblem] = []
        if platforms["feishu"]?["insecure_plain"]?.lowercased() == "true" {
            platformWarnings.append(
                ConfigProblem(
                    file: path, line: top?["platforms"]?.mapping?["feishu"]?.mark?.line,
                    message:
                        "platforms.feishu.insecure_plain is true: Feishu callbacks are checked only by the static verification token, with no signature and no time window; set encrypt_key instead"))
        }
        let ackPhrases = reader.strings(top?["ack_phrases"], "ack_phrases") ?? ["收到", "已收到"]
        let botNames = reader.strings(top?["bot_names"], "bot_names") ?? ["团务助手", "LeagueOps", "机器人", "bot"]

        store.sqlitePath = resolve(store.sqlitePath, against: base)
        let orgPath = resolve(reader.string(top?["org"], "org") ?? "org.yaml", against: base)
        // No `commands:` key: the catalogue built into the binary. A folder given overrides it.
        let commandsPath = reader.string(top?["commands"], "commands").map { resolve($0, against: base) }
        let onboarding = OnboardingSettings.read(top, reader)

        let deliberation = DeliberationConfigReader.read(top, reader)
        let registry = RegistryConfigReader.read(top, reader)
        let observability = readObservability(top, reader)
        var retention = BotConfig.Retention()
        if let map = reader.mapping(top?["retention"], "retention") {
            reader.checkKeys(map, allowed: ["inbound", "outbox"], "retention")
            if let value = reader.duration(map["inbound"], "retention.inbound") { retention.inboundSeconds = value }
            if let value = reader.duration(map["outbox"], "retention.outbox") { retention.outboxSeconds = value }
        }

        var problems = reader.problems
        var warnings = platformWarnings
        let org = OrgLoader.load(path: orgPath, environment: environment, platforms: Set(platforms.keys), problems: &problems, warnings: &warnings)
        let catalogue = commandsPath.map { CatalogueLoader.load(directory: $0, problems: &problems) } ?? CatalogueLoader.loadBuiltIn(problems: &problems)
        guard problems.isEmpty, let org else { throw ConfigError(problems) }

        var config = BotConfig(file: path, org: org, catalogue: catalogue, orgFile: orgPath, commandsDirectory: commandsPath ?? "")
        config.server = server
        config.store = store
        config.language = language
        config.timeZone = timeZone
        config.tasks = tasks
        config.outbox = outbox
        config.retention = retention
        config.health = health
        config.ackPhrases = ackPhrases
        config.botNames = botNames
        config.platforms = platforms
        config.deliberation = deliberation
        config.registry = registry
        config.observability = observability
        config.onboarding = onboarding
        config.warnings = warnings
        return config
    }

    /// `dashboard: {link_ttl}`, `metrics: {token, port}`, `log: {format}`.
    static func readObservability(_ top: Node.Mapping?, _ reader: YAMLReader) -> BotConfig.Observability {
        var result = BotConfig.Observability()
        if let map = reader.mapping(top?["dashboard"], "dashboard") {
            reader.checkKeys(map, allowed: ["link_ttl"], "dashboard")
            if let value = reader.duration(map["link_ttl"], "dashboard.link_ttl") { result.linkTTLSeconds = value }
        }
        if let map = reader.mapping(top?["metrics"], "metrics") {
            reader.checkKeys(map, allowed: ["token", "port"], "metrics")
            result.metricsToken = reader.secret(map["token"], "metrics.token")
            result.metricsPort = reader.int(map["port"], "metrics.port", range: 0...65535)
        }
        if let map = reader.mapping(top?["log"], "log") {
            reader.checkKeys(map, allowed: ["format"], "log")
            if let format = reader.string(map["format"], "log.format") {
                if ["text", "json"].contains(format.lowercased()) {
                    result.logFormat = format.lowercased()
                } else {
                    reader.problem(map["format"], "log.format must be text or json, not “\(format)”")
                }
            }
        }
        return result
    }
}
