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
    public var org = OrgTree(units: [])
    public var catalogue: [CommandSpec] = []
    /// The file the org tree came from.
    public var orgFile = ""
    /// The folder the command catalogue came from; empty when the built-in catalogue is used.
    public var commandsDirectory = ""
    /// Onboarding settings (binding codes).
    public var onboarding = OnboardingSettings()
    /// What is allowed but probably wrong (a member without roles, an unencrypted Feishu callback):
    /// `leagueops check` prints these; the bot starts.
    public var warnings: [ConfigProblem] = []
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

        // Filled as it is read; the org and the catalogue are set once every file has been read.
        var config = BotConfig(file: path)
        if let map = reader.section(top, "server", allowed: ["host", "port", "public_url", "idle_timeout"]) {
            if let value = reader.duration(map["idle_timeout"], "server.idle_timeout") { config.server.idleTimeoutSeconds = value }
            if let host = reader.string(map["host"], "server.host") { config.server.host = host }
            if let port = reader.int(map["port"], "server.port", range: 0...65535) { config.server.port = port }
            config.server.publicURL = reader.string(map["public_url"], "server.public_url")
        }
        if let map = reader.section(top, "store", allowed: ["sqlite", "synchronous"]) {
            if let sqlite = reader.string(map["sqlite"], "store.sqlite") { config.store.sqlitePath = sqlite }
            if let mode = reader.choice(map["synchronous"], "store.synchronous", ["full", "normal"]) { config.store.synchronous = mode }
        }
        if let zone = reader.timeZone(top?["timezone"], "timezone") { config.timeZone = zone }
        if let text = reader.string(top?["locale"], "locale") {
            if let value = Language(configValue: text) {
                config.language = value
            } else {
                reader.problem(top?["locale"], "locale must be zh-Hans or en, not “\(text)”")
            }
        }
        config.tasks = TaskSettings(language: config.language, timeZone: config.timeZone)
        if let map = reader.section(top, "targets", allowed: ["routine", "urgent"]) {
            if let value = reader.duration(map["routine"], "targets.routine") { config.tasks.routineSeconds = value }
            if let value = reader.duration(map["urgent"], "targets.urgent") { config.tasks.urgentSeconds = value }
        }
        if let map = reader.section(top, "escalation", allowed: ["remind_at"]) {
            if let value = reader.double(map["remind_at"], "escalation.remind_at", range: 0...0.99) { config.tasks.remindAt = value }
        }
        if let map = reader.section(top, "outbox", allowed: ["max_attempts", "backoff", "max_backoff", "timeout", "give_up_after"]) {
            if let value = reader.int(map["max_attempts"], "outbox.max_attempts", range: 1...100) { config.outbox.maxAttempts = value }
            if let value = reader.duration(map["backoff"], "outbox.backoff") { config.outbox.backoffSeconds = value }
            if let value = reader.duration(map["max_backoff"], "outbox.max_backoff") { config.outbox.maxBackoffSeconds = value }
            if let value = reader.duration(map["timeout"], "outbox.timeout") { config.outbox.timeoutSeconds = value }
            if let value = reader.duration(map["give_up_after"], "outbox.give_up_after") { config.outbox.giveUpAfterSeconds = value }
        }
        if let map = reader.section(top, "health", allowed: ["max_pending_age"]) {
            if let value = reader.duration(map["max_pending_age"], "health.max_pending_age") { config.health.maxPendingAgeSeconds = value }
        }
        for (key, value) in reader.mapping(top?["platforms"], "platforms") ?? [:] {
            guard let name = key.string else { continue }
            var settings: [String: String] = [:]
            for (settingKey, settingValue) in reader.mapping(value, "platforms.\(name)") ?? [:] {
                guard let setting = settingKey.string else { continue }
                if let resolved = reader.secret(settingValue, "platforms.\(name).\(setting)") { settings[setting] = resolved }
            }
            config.platforms[name] = settings
        }
        if config.platforms["feishu"]?["insecure_plain"]?.lowercased() == "true" {
            config.warnings.append(
                ConfigProblem(
                    file: path, line: top?["platforms"]?.mapping?["feishu"]?.mark?.line,
                    message:
                        "platforms.feishu.insecure_plain is true: Feishu callbacks are checked only by the static verification token, with no signature and no time window; set encrypt_key instead"))
        }
        if let phrases = reader.strings(top?["ack_phrases"], "ack_phrases") { config.ackPhrases = phrases }
        if let names = reader.strings(top?["bot_names"], "bot_names") { config.botNames = names }

        config.store.sqlitePath = resolve(config.store.sqlitePath, against: base)
        config.orgFile = resolve(reader.string(top?["org"], "org") ?? "org.yaml", against: base)
        // No `commands:` key: the catalogue built into the binary. A folder given overrides it.
        let commandsPath = reader.string(top?["commands"], "commands").map { resolve($0, against: base) }
        config.commandsDirectory = commandsPath ?? ""
        config.onboarding = OnboardingSettings.read(top, reader)
        config.deliberation = DeliberationConfigReader.read(top, reader)
        config.registry = RegistryConfigReader.read(top, reader)
        config.observability = readObservability(top, reader)
        if let map = reader.section(top, "retention", allowed: ["inbound", "outbox"]) {
            if let value = reader.duration(map["inbound"], "retention.inbound") { config.retention.inboundSeconds = value }
            if let value = reader.duration(map["outbox"], "retention.outbox") { config.retention.outboxSeconds = value }
        }

        var problems = reader.problems
        let org = OrgLoader.load(path: config.orgFile, environment: environment, platforms: Set(config.platforms.keys), problems: &problems, warnings: &config.warnings)
        let catalogue = commandsPath.map { CatalogueLoader.load(directory: $0, problems: &problems) } ?? CatalogueLoader.loadBuiltIn(problems: &problems)
        guard problems.isEmpty, let org else { throw ConfigError(problems) }
        config.org = org
        config.catalogue = catalogue
        return config
    }

    /// `dashboard: {link_ttl}`, `metrics: {token, port}`, `log: {format}`.
    static func readObservability(_ top: Node.Mapping?, _ reader: YAMLReader) -> BotConfig.Observability {
        var result = BotConfig.Observability()
        if let map = reader.section(top, "dashboard", allowed: ["link_ttl"]) {
            if let value = reader.duration(map["link_ttl"], "dashboard.link_ttl") { result.linkTTLSeconds = value }
        }
        if let map = reader.section(top, "metrics", allowed: ["token", "port"]) {
            result.metricsToken = reader.secret(map["token"], "metrics.token")
            result.metricsPort = reader.int(map["port"], "metrics.port", range: 0...65535)
        }
        if let map = reader.section(top, "log", allowed: ["format"]) {
            if let format = reader.choice(map["format"], "log.format", ["text", "json"]) { result.logFormat = format }
        }
        return result
    }
}
