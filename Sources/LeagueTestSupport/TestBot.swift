import Foundation
import GRDB
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import Logging

/// The one bot builder of the tests: the real `LeagueApp` on a manual clock with an injected transport.
///
/// * `.engine`: no socket and no services. A message goes through the real ingest path (`Ingestor`:
///   committed and processed in one transaction, read-only commands on a reader); the test fires timers
///   itself (`app.engine.fireDueTimers()`) and reads the outbox from the store.
/// * `.live`: the HTTP server on 127.0.0.1, port 0, with every service running; messages are signed
///   webhooks. Start it with `withLiveBot` so its stop is awaited whatever the test does.
///
/// `changed` fires on every store commit and on every request the transport records, so waits wake on
/// the services' own work instead of polling. The services' timed waits sleep on the manual clock:
/// `advance` wakes those whose deadline it passes, so a test never waits on real time for the clock.
public final class TestBot: Stoppable, @unchecked Sendable {
    public enum Mode: Sendable { case engine, live }

    public let mode: Mode
    public let configPath: String
    public let config: BotConfig
    public let store: SQLiteStore
    /// The instrumented store the app uses, when built with `instrumented: true`.
    public let instrumented: InstrumentedStore?
    public let clock: ManualClock
    public let transport: any HTTPTransport
    public let app: LeagueApp
    /// Fired on store commits and on requests the transport recorded.
    public let changed = Signal()
    public private(set) var port = 0
    private let run: ServiceRun?
    private let lock = NSLock()
    private var counter = 0

    /// Starts a bot; pass the store, clock and transport of a stopped bot to simulate a restart.
    /// - Parameters:
    ///   - store: by default the config's SQLite file (live) or an in-memory store (engine).
    ///   - transport: by default a new `FakeTransport`.
    ///   - answerWithin: longest a webhook waits for its commit before it is answered 503.
    ///   - liveFallback: longest a dashboard live view waits for a commit before it reads the store anyway.
    ///   - ingestQueue: most messages and bytes waiting for a commit (over it a webhook is refused at once).
    ///   - seams: the engine's cross-feature seams.
    ///   - instrumented: the app uses an `InstrumentedStore` around the SQLite one (a store that fails on purpose).
    public init(
        configPath: String, mode: Mode = .live, store: SQLiteStore? = nil, clock: ManualClock? = nil,
        transport: (any HTTPTransport)? = nil, answerWithin: Double = 4, liveFallback: Double = 5,
        ingestQueue: (count: Int, bytes: Int) = (20_000, 32 << 20), seams: Seams = .live, instrumented: Bool = false
    ) async throws {
        self.mode = mode
        self.configPath = configPath
        self.config = try ConfigLoader.load(path: configPath)
        self.store = try store ?? (mode == .live ? SQLiteStore(path: config.store.sqlitePath) : SQLiteStore())
        self.clock = clock ?? ManualClock(Date())
        self.transport = transport ?? FakeTransport()
        self.instrumented = instrumented ? InstrumentedStore(self.store) : nil
        self.app = try LeagueApp(
            config: config, store: self.instrumented ?? self.store, clock: self.clock, transport: self.transport, logger: quietLogger("test"),
            answerWithin: answerWithin, ingestQueue: ingestQueue,
            liveFallback: liveFallback, seams: seams)
        self.store.fireOnCommit(changed)
        (self.transport as? FakeTransport)?.received.relay(to: changed)
        if mode == .live {
            let app = self.app
            (port, run) = try await startLoopback { running in app.application(onServerRunning: running) }
        } else {
            run = nil
        }
    }

    /// An engine-mode bot on a test config (`orgYAML`, more top-level keys in `extra`) whose manual clock
    /// starts at `start` (2026-11-12 by default); an in-memory store unless one is given.
    public static func engine(
        orgYAML: String = testOrgYAML, extra: String = "", store: SQLiteStore? = nil, at start: Date = Date(timeIntervalSince1970: 1_794_000_000),
        seams: Seams = .live
    ) async throws -> TestBot {
        try await TestBot(configPath: try writeTestConfig(orgYAML: orgYAML, extra: extra), mode: .engine, store: store, clock: ManualClock(start), seams: seams)
    }

    /// A new engine-mode bot on the same config, store, clock and seams, as after a restart (message ids
    /// go on from this bot's).
    public func restarted() async throws -> TestBot {
        let bot = try await TestBot(configPath: configPath, mode: .engine, store: store, clock: clock, transport: transport, seams: app.engine.seams)
        bot.counter = lock.withLock { counter }
        return bot
    }

    /// Stops the server and its services (awaited); a second call does nothing.
    public func stop() async { await run?.stop() }

    /// The in-process fake platform, when the bot was built with the default transport.
    public var fake: FakeTransport {
        guard let fake = transport as? FakeTransport else { preconditionFailure("this bot was built with a \(type(of: transport)), not a FakeTransport") }
        return fake
    }

    /// Moves the clock: the services sleeping until a time it reaches (a due timer, an outbox retry,
    /// the end of a robot's pause) wake at once.
    public func advance(_ seconds: Double) {
        clock.advance(by: seconds)
    }

    /// Moves the clock `step` seconds at a time, letting the bot settle after each step, until
    /// `condition` holds: for what takes several steps of the services (retries with back-off, a
    /// rate window opening). Fails after `limit` seconds of clock time or `timeout` real seconds.
    public func advance(
        _ step: Double, until what: String, limit: Double = 3600, timeout: Double = 20, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var moved = 0.0
        while true {
            try await settle(timeout: max(deadline.timeIntervalSinceNow, 0.1))
            if try await condition() { return }
            guard moved < limit, Date() < deadline else {
                throw WaitTimedOut("\(what): not after \(moved) s of clock time in steps of \(step) s")
            }
            advance(step)
            moved += step
        }
    }

    /// A platform connection as /healthz reports it (nil when the bot has none of that name).
    public func connection(_ name: String) -> ConnectionRegistry.Entry? {
        app.connectionRegistry.report().first { $0.name == name }
    }

    /// The state of a platform connection ("absent" when there is none).
    public func connectionState(_ name: String) -> String { connection(name)?.state ?? "absent" }

    // MARK: Messages

    /// The generic webhook body of one message.
    public static func body(id: String, chat: String, sender: String, text: String, ts: Double) -> Data {
        let payload: [String: Any] = ["id": id, "group": chat, "sender": sender, "text": text, "ts": ts]
        return try! JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
    }

    /// Posts raw bytes to a path of the live server with headers; returns status and body.
    public func post(
        path: String = "/webhook/generic", body: Data, headers: [String: String] = [:],
        repeatedHeaders: [(String, String)] = []
    ) async throws -> (Int, String) {
        precondition(mode == .live, "post needs a live bot")
        return try await loopback(port: port, path: path, body: body, headers: headers, repeatedHeaders: repeatedHeaders)
    }

    /// A request of any method to the live server.
    public func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> (Int, String) {
        try await loopback(method, port: port, path: path, body: body, headers: headers)
    }

    /// Sends a generic message as a member's platform id into a chat: a signed webhook (live; returns
    /// its status and body) or straight into the ingestor (engine; 200 once committed and processed).
    public func send(
        _ text: String, in chat: String, from sender: String, id: String? = nil, secret: String = testSecret,
        body: Data? = nil
    ) async throws -> (Int, String) {
        let id = id ?? UUID().uuidString
        switch mode {
        case .live:
            let body = body ?? Self.body(id: id, chat: chat, sender: sender, text: text, ts: clock.now().timeIntervalSince1970)
            return try await post(body: body, headers: [GenericAdapter.signatureHeader: GenericAdapter.signature(body: body, secret: secret)])
        case .engine:
            _ = try await submit(text, in: chat, from: sender, id: id)
            return (200, "")
        }
    }

    /// Sends a message, which must be answered 200, and waits (bounded) until the fake platform received a
    /// message to the same chat that contains `answer`; `what` names that wait.
    public func ask(_ text: String, in chat: String, from sender: String, answer: String, _ what: String) async throws {
        let status = try await say(text, in: chat, from: sender)
        guard status == 200 else { throw MissingValue(description: "“\(text)” in \(chat) was answered \(status), not 200") }
        try await waitUntil(what) { $0.contains { $0.group == chat && $0.text.contains(answer) } }
    }

    /// `send`, status only.
    @discardableResult
    public func say(_ text: String, in chat: String, from sender: String, id: String = UUID().uuidString, secret: String = testSecret) async throws -> Int {
        try await send(text, in: chat, from: sender, id: id, secret: secret).0
    }

    /// Commits and processes one message through the ingestor (both modes); ids default to m1, m2 …
    public func submit(_ text: String, in chat: String, from sender: String, id: String? = nil, platform: String = "generic") async throws -> IngestResult {
        let id =
            id
            ?? lock.withLock {
                counter += 1
                return "m\(counter)"
            }
        let message = ChatMessage(platform: platform, chat: chat, sender: sender, text: text, messageID: id, sentAt: clock.now())
        return try await app.ingestor.submit(message)
    }

    /// Commits and processes one message (both modes); returns the texts the bot queued meanwhile for
    /// the group it was typed in (its replies).
    @discardableResult
    public func replies(to text: String, in chat: String, from sender: String) async throws -> [String] {
        let before = try await outbox().count
        _ = try await submit(text, in: chat, from: sender)
        return try await outbox().dropFirst(before).filter { $0.group.chat == chat }.map(\.text)
    }

    // MARK: Reading and waiting

    /// Every message the bot has queued (sent or not), oldest first.
    public func outbox() async throws -> [OutboundMessage] {
        try await store.read { try $0.dueOutbox(at: Date.distantFuture, limit: 10_000) }.sorted { $0.id < $1.id }.map(\.message)
    }

    /// The texts the bot has queued for one chat, oldest first.
    public func queued(to chat: String) async throws -> [String] { try await outbox().filter { $0.group.chat == chat }.map(\.text) }

    /// Pending (unsent, not dead) outbox entries.
    public func pendingOutbox() async throws -> [OutboxEntry] {
        try await store.read { try $0.dueOutbox(at: .distantFuture, limit: 10_000) }
    }

    /// Number of committed inbound messages.
    public func inboundCount() async throws -> Int { try await store.rowCount("inbound") }

    /// One integer from SQL on the store.
    public func count(_ sql: String) async throws -> Int {
        try await store.writer.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    /// Waits (bounded) until `condition` holds, waking on every commit and transport request (and
    /// looking every 50 ms for state neither covers, such as a fake gateway's frames).
    public func wait(_ what: String, timeout: Double = 15, _ condition: () async throws -> Bool) async throws {
        try await waitFor(what, timeout: timeout, signal: changed, fallback: 0.05, condition)
    }

    /// Waits (bounded) until `condition` holds on what the fake platform received.
    public func waitUntil(_ what: String, timeout: Double = 10, _ condition: ([FakeTransport.Sent]) -> Bool) async throws {
        let fake = fake
        try await waitFor(
            what, timeout: timeout, signal: changed, fallback: 0.25,
            seen: { fake.requests.map { "[\($0.group)] \($0.text)" }.joined(separator: "\n") }
        ) { condition(fake.requests) }
    }

    /// Waits until every committed message is processed and nothing due is left in the outbox or the timers.
    public func settle(timeout: Double = 10) async throws {
        // What was still to do when it gave up.
        var left = ""
        try await waitFor("the bot to settle (inbox processed, nothing due)", timeout: timeout, signal: changed, fallback: 0.25, seen: { left }) {
            let now = clock.now()
            let (inbound, outbox, timers) = try await store.read { reader in
                (try reader.unprocessedInbound(limit: 5), try reader.dueOutbox(at: now, limit: 5), try reader.dueTimers(at: now, limit: 5))
            }
            left =
                "unprocessed inbound \(inbound.map(\.message.messageID)), due outbox \(outbox.map { "\($0.message.key) (\($0.attempts) tries, \($0.lastError ?? "-"))" }), due timers \(timers.map(\.key))"
            return inbound.isEmpty && outbox.isEmpty && timers.isEmpty
        }
    }
}

/// Runs `body` with a live bot (loopback server, services running) and always awaits its stop.
public func withLiveBot<T>(
    configPath: String, store: SQLiteStore? = nil, clock: ManualClock? = nil, transport: (any HTTPTransport)? = nil,
    answerWithin: Double = 4, liveFallback: Double = 5, instrumented: Bool = false, _ body: (TestBot) async throws -> T
) async throws -> T {
    let bot = try await TestBot(
        configPath: configPath, mode: .live, store: store, clock: clock, transport: transport,
        answerWithin: answerWithin, liveFallback: liveFallback, instrumented: instrumented)
    return try await withRunning(bot, body)
}
