import Foundation
import LeagueConfig
import LeagueCore

/// A small org for tests: district d → towns t1, t2 → community c1 (under t1) → grids g1, g2.
public let testOrgYAML = """
    units:
      - {id: d, name: 测试区, tier: district, group: {platform: generic, chat: chat-d}, members: [{id: m-d, name: 区书记, roles: [admin, cadre], ids: {generic: u-d}}]}
      - {id: t1, name: 第一街道, tier: town, parent: d, group: {platform: generic, chat: chat-t1}, members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {generic: u-t1}}]}
      - {id: t2, name: 第二街道, tier: town, parent: d, group: {platform: generic, chat: chat-t2}, members: [{id: m-t2, name: 街道乙, roles: [admin, cadre], ids: {generic: u-t2}}]}
      - {id: c1, name: 解放路社区, tier: community, parent: t1, group: {platform: generic, chat: chat-c1},
          members: [{id: m-c1, name: 社区丙, roles: [admin, cadre], ids: {generic: u-c1}}]}
      - {id: g1, name: 第1网格, tier: grid, parent: c1, group: {platform: generic, chat: chat-g1}, members: [{id: m-g1, name: 网格员一, roles: [cadre], ids: {generic: u-g1}}]}
      - {id: g2, name: 第2网格, tier: grid, parent: c1, group: {platform: generic, chat: chat-g2}, members: [{id: m-g2, name: 网格员二, roles: [cadre], ids: {generic: u-g2}}]}

    """

/// The generic platform's webhook secret in every test config.
public let testSecret = "test-secret"

/// Secrets of the platform tests (all made up).
public enum PlatformSecrets {
    public static let wecomToken = "QDG6eK"
    public static let wecomAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    public static let wecomCorpID = "ww0123456789abcdef"
    public static let dingtalkAppSecret = "dt-app-secret-7f3a9c"
    public static let feishuEncryptKey = "fs-encrypt-key-2024"
    public static let feishuToken = "fs-verification-token"
    public static let feishuBotOpenID = "ou_bot_0001"
}

/// The one test config writer: a folder with leagueops.yaml and org.yaml; returns the main file's path.
/// - Parameters:
///   - extra: more top-level keys, appended to the main file.
///   - platforms: the `platforms:` entries (indented two spaces); the generic platform by default.
///   - morePlatforms: entries added after `platforms` (a vendor next to the generic platform).
///   - taskDefaults: write the test timezone, targets and escalation (off: the loader's defaults).
///   - outboundPort: where the generic platform posts (a `FakePlatform`); nothing listens on the default.
///   - synchronous: the SQLite `synchronous` setting, when not the default.
///   - server: the `server:` map (an idle time-out, a public URL for links in answers).
///   - commands: the command catalogue folder.
///   - main: the whole main file instead of the test one (a minimal config as an operator writes it).
public func writeTestConfig(
    orgYAML: String = testOrgYAML, extra: String = "", directory: URL? = nil,
    targets: String = "{routine: 10m, urgent: 3m}", outbox: String = "{max_attempts: 3, backoff: 1s, max_backoff: 4s, timeout: 2s}",
    platforms: String? = nil, morePlatforms: String = "", outboundPort: Int = 9, synchronous: String? = nil,
    taskDefaults: Bool = true, server: String = "{host: 127.0.0.1, port: 0}",
    commands: String = repositoryRoot.appendingPathComponent("commands").path, main: String? = nil
) throws -> String {
    let folder = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let store = synchronous.map { "{sqlite: \(folder.path)/bot.sqlite, synchronous: \($0)}" } ?? "{sqlite: \(folder.path)/bot.sqlite}"
    var platforms = platforms ?? "  generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:\(outboundPort)/messages}"
    if !morePlatforms.isEmpty { platforms += "\n" + morePlatforms.trimmingCharacters(in: .newlines) }
    let tasks = taskDefaults ? "timezone: Asia/Shanghai\ntargets: \(targets)\nescalation: {remind_at: 0.5}" : ""
    let text =
        main ?? """
            server: \(server)
            store: \(store)
            \(tasks)
            outbox: \(outbox)
            platforms:
            \(platforms)
            org: org.yaml
            commands: \(commands)
            \(extra)
            """
    try text.write(to: folder.appendingPathComponent("leagueops.yaml"), atomically: true, encoding: .utf8)
    try orgYAML.write(to: folder.appendingPathComponent("org.yaml"), atomically: true, encoding: .utf8)
    return folder.appendingPathComponent("leagueops.yaml").path
}

/// A config for a child-process bot: the test org, short targets, SQLite `synchronous` (normal unless
/// given), the generic platform posting to `outboundPort`. Returns the config's and the database's paths.
public func writeChildConfig(
    outboundPort: Int, targets: String = "{routine: 10m, urgent: 4s}", outbox: String = "{max_attempts: 8, backoff: 1s, max_backoff: 2s, timeout: 2s}",
    synchronous: String = "normal"
) throws -> (config: String, database: String) {
    let config = try writeTestConfig(targets: targets, outbox: outbox, outboundPort: outboundPort, synchronous: synchronous)
    return (config, URL(fileURLWithPath: config).deletingLastPathComponent().appendingPathComponent("bot.sqlite").path)
}

/// Loads `yaml` as an org file (written to a temporary folder, removed afterwards), as `leagueops` would.
/// - Returns: the tree (nil when it does not load) and every problem found.
public func loadOrgText(_ yaml: String, environment: [String: String] = [:], platforms: Set<String>) throws -> (tree: OrgTree?, problems: [ConfigProblem]) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-org-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("org.yaml").path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    var problems: [ConfigProblem] = []
    let tree = OrgLoader.load(path: path, environment: environment, platforms: platforms, problems: &problems)
    return (tree, problems)
}
