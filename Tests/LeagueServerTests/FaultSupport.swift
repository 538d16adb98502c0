import Foundation
import GRDB
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import Logging
import NIOCore
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An in-process fake platform on loopback for a bot running as a child process: records every
/// outbound generic POST by idempotency key.
final class LoopbackPlatform: @unchecked Sendable {
    struct Received: Sendable { var key: String; var group: String; var text: String }
    private let lock = NSLock()
    private var items: [Received] = []
    private var task: ServiceRun?
    private(set) var port = 0

    var received: [Received] { lock.withLock { items } }
    func count(key: String) -> Int { received.filter { $0.key == key }.count }
    var duplicateKeys: [String] { Dictionary(grouping: received, by: \.key).filter { $0.value.count > 1 }.map(\.key) }

    func start() async throws {
        let router = Router()
        router.post("/messages") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
            self.lock.withLock {
                self.items.append(Received(key: object["key"] as? String ?? "", group: object["group"] as? String ?? "", text: object["text"] as? String ?? ""))
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "{}")))
        }
        var logger = Logger(label: "loopback-platform")
        logger.logLevel = .critical
        let started = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  started.continuation.yield(channel.localAddress?.port ?? 0)
                                  started.continuation.finish()
                              }, logger: logger)
        task = ServiceRun(app)
        for await port in started.stream { self.port = port }
    }

    func stop() async {
        await task?.stop()
    }

    /// Waits (bounded) until `condition` holds.
    func wait(_ what: String, timeout: Double = 20, _ condition: ([Received]) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(received) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for: \(what); received: \(received.map(\.key))")
        throw CancellationError()
    }
}

/// The built `leagueops` executable: next to the test bundle (same build folder), else nil.
func leagueopsBinary() -> String? {
    var folders = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL.deletingLastPathComponent(),
                   Bundle.main.bundleURL]
    if let path = Bundle.main.executableURL { folders.append(path.deletingLastPathComponent()) }
    for folder in folders {
        var candidate = folder
        // On macOS the bundle is …/debug/X.xctest/Contents/MacOS/X.
        for _ in 0..<4 {
            let binary = candidate.appendingPathComponent("leagueops").path
            if FileManager.default.isExecutableFile(atPath: binary) { return binary }
            candidate = candidate.deletingLastPathComponent()
        }
    }
    return nil
}

/// Writes a config for a child-process bot: the test org, short targets, the given outbound port.
func writeChildConfig(outboundPort: Int, targets: String = "{routine: 10m, urgent: 4s}", outbox: String = "{max_attempts: 8, backoff: 1s, max_backoff: 2s, timeout: 2s}") throws -> (config: String, database: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-fault-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let database = folder.appendingPathComponent("bot.sqlite").path
    let main = """
        server: {host: 127.0.0.1, port: 0}
        store: {sqlite: \(database), synchronous: normal}
        timezone: Asia/Shanghai
        targets: \(targets)
        escalation: {remind_at: 0.5}
        outbox: \(outbox)
        platforms:
          generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:\(outboundPort)/messages}
        org: org.yaml
        commands: \(repositoryRoot.appendingPathComponent("commands").path)

        """
    try main.write(to: folder.appendingPathComponent("leagueops.yaml"), atomically: true, encoding: .utf8)
    try testOrgYAML.write(to: folder.appendingPathComponent("org.yaml"), atomically: true, encoding: .utf8)
    return (folder.appendingPathComponent("leagueops.yaml").path, database)
}

/// `leagueops serve` as a child process (port 0; the port is read from the line it prints).
final class ChildBot: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(binary: String, config: String) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", config, "--port", "0", "--log-level", "critical"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = output.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil && Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let range = text.range(of: "LeagueOps listening on http://127.0.0.1:"),
               let end = text[range.upperBound...].firstIndex(of: "\n") {
                found = Int(text[range.upperBound..<end])
            }
        }
        guard let found else {
            process.terminate()
            throw ChildBotError(description: "leagueops serve did not print its listening address; output: \(text)")
        }
        port = found
        // Keep draining stdout so the child never blocks on a full pipe.
        Thread.detachNewThread { while !handle.availableData.isEmpty {} }
    }

    struct ChildBotError: Error, CustomStringConvertible { var description: String }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait (bounded); returns the exit status, or nil when it had to be killed.
    func terminate(timeout: Double = 15) -> Int32? {
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill9()
            return nil
        }
        return process.terminationStatus
    }

    /// Posts a signed generic message; returns the status, or nil when the connection failed.
    func say(_ text: String, in chat: String, from sender: String, id: String) async -> Int? {
        let body = TestBot.body(id: id, chat: chat, sender: sender, text: text, ts: Date().timeIntervalSince1970)
        let headers = [GenericAdapter.signatureHeader: GenericAdapter.signature(body: body, secret: testSecret)]
        return try? await loopback(port: port, path: "/webhook/generic", body: body, headers: headers, timeout: 10).0
    }
}

/// Read-only access to a bot's database file from the test.
func readDatabase<T: Sendable>(_ path: String, _ body: @Sendable (Database) throws -> T) throws -> T {
    var configuration = Configuration()
    configuration.readonly = true
    return try DatabaseQueue(path: path, configuration: configuration).read(body)
}

/// A transport that fails in scripted ways (connection refused, 500, timeout, 429) before it answers 200.
final class FlakyTransport: HTTPTransport, @unchecked Sendable {
    enum Failure: Sendable { case refused, status(Int), timeout }
    private let lock = NSLock()
    private var script: [Failure] = []
    private var delivered: [String] = []
    private var attempts = 0
    private var failForever = false

    var keys: [String] { lock.withLock { delivered } }
    var attemptCount: Int { lock.withLock { attempts } }
    func fail(_ failures: [Failure]) { lock.withLock { script = failures } }
    func failAlways(_ on: Bool) { lock.withLock { failForever = on } }

    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        let failure: Failure? = lock.withLock {
            attempts += 1
            if failForever { return .status(500) }
            return script.isEmpty ? nil : script.removeFirst()
        }
        switch failure {
        case .refused: throw URLError(.cannotConnectToHost)
        case .timeout: throw URLError(.timedOut)
        case .status(let status): return OutboundResponse(status: status, body: Data())
        case nil:
            let key = request.headers["Idempotency-Key"] ?? ""
            lock.withLock { delivered.append(key) }
            return OutboundResponse(status: 200, body: Data())
        }
    }
}

/// The bot in-process with any transport and a manual clock (TestBot fixes its transport type).
final class InProcessBot: @unchecked Sendable {
    let store: SQLiteStore
    let clock: ManualClock
    let app: LeagueApp
    private(set) var port = 0
    private var task: ServiceRun?

    init(configPath: String, transport: any HTTPTransport, runServices: Bool = true, answerWithin: Double = 4) async throws {
        let config = try ConfigLoader.load(path: configPath)
        store = try SQLiteStore(path: config.store.sqlitePath)
        clock = ManualClock(Date())
        var logger = Logger(label: "fault-test")
        logger.logLevel = .critical
        app = try LeagueApp(config: config, store: store, clock: clock, transport: transport, logger: logger, maxSleep: 0.05,
                            answerWithin: answerWithin)
        let started = AsyncStream<Int>.makeStream()
        let application = app.application(onServerRunning: { channel in
            started.continuation.yield(channel.localAddress?.port ?? 0)
            started.continuation.finish()
        })
        task = ServiceRun(application)
        for await port in started.stream { self.port = port }
    }

    func stop() async {
        await task?.stop()
    }

    func advance(_ seconds: Double) {
        clock.advance(by: seconds)
        app.wakeAll()
    }

    func say(_ text: String, in chat: String, from sender: String, id: String = UUID().uuidString, body: Data? = nil) async throws -> (Int, String) {
        let body = body ?? TestBot.body(id: id, chat: chat, sender: sender, text: text, ts: clock.now().timeIntervalSince1970)
        let headers = [GenericAdapter.signatureHeader: GenericAdapter.signature(body: body, secret: testSecret)]
        return try await loopback(port: port, path: "/webhook/generic", body: body, headers: headers)
    }

    func count(_ sql: String) async throws -> Int {
        try await store.writer.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// Polls (bounded), moving nothing, until `condition` holds.
    func wait(_ what: String, timeout: Double = 15, _ condition: @escaping () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return }
            app.wakeAll()
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for: \(what)")
        throw CancellationError()
    }
}
