import Foundation
import AsyncHTTPClient
import GRDB
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The repository root, found from this file.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Records every outbound request instead of sending it; can be told to fail.
final class FakeTransport: HTTPTransport, @unchecked Sendable {
    struct Sent: Sendable {
        var request: OutboundRequest
        var group: String
        var text: String
        var mentions: [String]
        var key: String
    }

    private let lock = NSLock()
    private var sent: [Sent] = []
    /// Answers to give, in order, before answering 200 (e.g. 500, 500, 429).
    private var scripted: [Int] = []
    var requests: [Sent] { lock.withLock { sent } }

    func script(_ statuses: [Int]) { lock.withLock { scripted = statuses } }

    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        let status: Int = lock.withLock { scripted.isEmpty ? 200 : scripted.removeFirst() }
        guard status == 200 else { return OutboundResponse(status: status, body: Data()) }
        struct Body: Decodable { var group: String; var text: String; var mentions: [String]; var key: String }
        let body = try JSONDecoder().decode(Body.self, from: request.body)
        lock.withLock { sent.append(Sent(request: request, group: body.group, text: body.text, mentions: body.mentions, key: body.key)) }
        return OutboundResponse(status: 200, body: Data())
    }

    func to(_ chat: String) -> [Sent] { requests.filter { $0.group == chat } }
}

/// A small org for tests: district d → towns t1, t2 → community c1 (under t1) → grids g1, g2.
let testOrgYAML = """
units:
  - id: d
    name: 测试区
    tier: district
    group: {platform: generic, chat: chat-d}
    members:
      - {id: m-d, name: 区书记, roles: [admin, cadre], ids: {generic: u-d}}
  - id: t1
    name: 第一街道
    tier: town
    parent: d
    group: {platform: generic, chat: chat-t1}
    members:
      - {id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {generic: u-t1}}
  - id: t2
    name: 第二街道
    tier: town
    parent: d
    group: {platform: generic, chat: chat-t2}
    members:
      - {id: m-t2, name: 街道乙, roles: [admin, cadre], ids: {generic: u-t2}}
  - id: c1
    name: 解放路社区
    tier: community
    parent: t1
    group: {platform: generic, chat: chat-c1}
    members:
      - {id: m-c1, name: 社区丙, roles: [admin, cadre], ids: {generic: u-c1}}
  - id: g1
    name: 第1网格
    tier: grid
    parent: c1
    group: {platform: generic, chat: chat-g1}
    members:
      - {id: m-g1, name: 网格员一, roles: [cadre], ids: {generic: u-g1}}
  - id: g2
    name: 第2网格
    tier: grid
    parent: c1
    group: {platform: generic, chat: chat-g2}
    members:
      - {id: m-g2, name: 网格员二, roles: [cadre], ids: {generic: u-g2}}

"""

let testSecret = "test-secret"

/// One HTTP request to a server on loopback (AsyncHTTPClient): status and body text.
/// `repeatedHeaders` are added after `headers`, so a name in both is sent twice.
func loopback(
    _ method: String = "POST", port: Int, path: String, body: Data? = nil, headers: [String: String] = [:],
    repeatedHeaders: [(String, String)] = [], timeout: Double = 30
) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = HTTPMethod(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    for (name, value) in repeatedHeaders { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
    let bytes = try await response.body.collect(upTo: 4 << 20)
    return (Int(response.status.code), String(buffer: bytes))
}

/// Writes a config folder (leagueops.yaml + org.yaml) and returns the main file's path.
func writeTestConfig(orgYAML: String = testOrgYAML, extra: String = "", directory: URL? = nil) throws -> String {
    let folder = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let main = """
        server: {host: 127.0.0.1, port: 0}
        store: {sqlite: \(folder.path)/bot.sqlite}
        timezone: Asia/Shanghai
        targets: {routine: 10m, urgent: 3m}
        escalation: {remind_at: 0.5}
        outbox: {max_attempts: 3, backoff: 1s, max_backoff: 4s, timeout: 2s}
        platforms:
          generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:9/messages}
        org: org.yaml
        commands: \(repositoryRoot.appendingPathComponent("commands").path)
        \(extra)
        """
    try main.write(to: folder.appendingPathComponent("leagueops.yaml"), atomically: true, encoding: .utf8)
    try orgYAML.write(to: folder.appendingPathComponent("org.yaml"), atomically: true, encoding: .utf8)
    return folder.appendingPathComponent("leagueops.yaml").path
}

/// A running bot on loopback: the real server on port 0, a manual clock, a fake platform.
final class TestBot: @unchecked Sendable {
    let config: BotConfig
    let store: SQLiteStore
    let clock: ManualClock
    let transport: FakeTransport
    let app: LeagueApp
    private(set) var port = 0
    private var task: ServiceRun?

    /// Starts a bot; pass the store, clock and transport of a stopped bot to simulate a restart.
    /// `liveFallback`: longest a dashboard live view waits for a commit before it reads the store anyway.
    init(configPath: String, store: SQLiteStore? = nil, clock: ManualClock? = nil, transport: FakeTransport? = nil, liveFallback: Double = 5) async throws {
        self.config = try ConfigLoader.load(path: configPath)
        self.store = try store ?? SQLiteStore(path: config.store.sqlitePath)
        self.clock = clock ?? ManualClock(Date())
        self.transport = transport ?? FakeTransport()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        self.app = try LeagueApp(config: config, store: self.store, clock: self.clock, transport: self.transport, logger: logger, maxSleep: 0.05,
                                 liveFallback: liveFallback)
        (port, task) = await startServer(app)
    }

    /// Stops the server and its services.
    func stop() async {
        await task?.stop()
        task = nil
    }

    /// Moves the clock and wakes the services.
    func advance(_ seconds: Double) {
        clock.advance(by: seconds)
        app.wakeAll()
    }

    /// Posts raw bytes to a webhook path with headers; returns status and body.
    func post(path: String = "/webhook/generic", body: Data, headers: [String: String] = [:]) async throws -> (Int, String) {
        try await loopback(port: port, path: path, body: body, headers: headers)
    }

    /// Sends a signed generic webhook message as a member's platform id into a unit's chat.
    @discardableResult
    func say(_ text: String, in chat: String, from sender: String, id: String = UUID().uuidString, secret: String = testSecret) async throws -> Int {
        let body = Self.body(id: id, chat: chat, sender: sender, text: text, ts: clock.now().timeIntervalSince1970)
        let (status, _) = try await post(body: body, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: body, secret: secret)])
        return status
    }

    static func body(id: String, chat: String, sender: String, text: String, ts: Double) -> Data {
        let payload: [String: Any] = ["id": id, "group": chat, "sender": sender, "text": text, "ts": ts]
        return try! JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
    }

    /// Waits until `condition` holds on what the fake platform received (bounded; no fixed sleeps).
    func waitUntil(_ what: String, timeout: Double = 10, _ condition: @escaping ([FakeTransport.Sent]) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(transport.requests) { return }
            app.wakeAll()
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for: \(what)\nsent so far:\n\(transport.requests.map { "[\($0.group)] \($0.text)" }.joined(separator: "\n"))")
        throw CancellationError()
    }

    /// Waits until every committed message is processed and no due outbound message is waiting.
    func settle(timeout: Double = 10) async throws {
        try await settleBot(store: store, clock: clock, app: app, timeout: timeout)
    }

    /// Number of committed inbound messages.
    func inboundCount() async throws -> Int { try await store.rowCount("inbound") }
}

extension SQLiteStore {
    /// Rows in one table: what a refused or half-handled request must not have added.
    func rowCount(_ table: String) async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}

/// Waits (bounded) until every committed message is processed and nothing due is left in the
/// outbox or the timers; wakes the services while it waits.
func settleBot(store: any Store, clock: any WallClock, app: LeagueApp, timeout: Double) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let now = clock.now()
        let busy = try await store.read { reader in
            try !reader.unprocessedInbound(limit: 1).isEmpty || !reader.dueOutbox(at: now, limit: 1).isEmpty || !reader.dueTimers(at: now, limit: 1).isEmpty
        }
        if !busy { return }
        app.wakeAll()
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("bot did not settle")
}

/// Runs a bot's server and services on port 0; returns the bound port and the run to stop.
func startServer(_ app: LeagueApp) async -> (Int, ServiceRun) {
    let started = AsyncStream<Int>.makeStream()
    let application = app.application(onServerRunning: { channel in
        started.continuation.yield(channel.localAddress?.port ?? 0)
        started.continuation.finish()
    })
    let task = ServiceRun(application)
    var port = 0
    for await bound in started.stream { port = bound }
    return (port, task)
}

/// A server (or any service) run in a service group of its own and stopped by graceful shutdown.
/// Cancelling the task instead can trap in NIO when a connection is accepted during the cancel
/// ("Deinited NIOAsyncWriter without calling finish()", swift-nio#3481); a shutdown that hangs is
/// cancelled after 10 s so a test cannot hang on it.
final class ServiceRun: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ service: some Service) {
        var logger = Logger(label: "test-service-group")
        logger.logLevel = .critical
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        self.group = group
        self.task = Task { try await group.run() }
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        let task = task
        let deadline = Task {
            try await Task.sleep(for: .seconds(10))
            task.cancel()
        }
        _ = try? await task.value
        deadline.cancel()
    }
}
