import Foundation
import HummingbirdWSClient
import LeagueConfig
import LeagueCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Where a long connection stands, for /healthz and the log.
public enum LongConnectionState: Sendable, Equatable, CustomStringConvertible {
    case connecting
    case connected
    case backingOff
    /// Stopped on purpose (another holder took the bot, shutdown): not retried.
    case stopped(String)
    /// The platform refused the credentials or the connection: not retried until the config is fixed.
    case fatal(String)

    public var description: String {
        switch self {
        case .connecting: "connecting"
        case .connected: "connected"
        case .backingOff: "backing_off"
        case .stopped: "stopped"
        case .fatal: "fatal"
        }
    }
}

/// The observable state of one long connection, updated by its service.
public final class LongConnectionStatus: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var name: String
        public var state: LongConnectionState
        public var lastFrameAt: Date?
        /// When each session since start-up began (the last hour's count goes to /healthz).
        public var sessionsStarted: [Date]
        public var lastError: String?
        public var downSince: Date?
    }

    private let box: NIOLockedValueBox<Snapshot>

    public init(name: String) {
        box = NIOLockedValueBox(Snapshot(name: name, state: .connecting, lastFrameAt: nil, sessionsStarted: [], lastError: nil, downSince: Date()))
    }

    public var snapshot: Snapshot { box.withLockedValue { $0 } }

    func set(_ state: LongConnectionState, error: String? = nil, now: Date = Date()) {
        box.withLockedValue { value in
            value.state = state
            if let error { value.lastError = error }
            switch state {
            case .connected:
                value.downSince = nil
                value.sessionsStarted.append(now)
                value.sessionsStarted.removeAll { now.timeIntervalSince($0) > 3600 }
            default:
                if value.downSince == nil { value.downSince = now }
            }
        }
    }

    func frameArrived(_ now: Date = Date()) { box.withLockedValue { $0.lastFrameAt = now } }
}

/// How a session on one socket ended.
public enum SessionEnd: Sendable, Equatable {
    /// Reconnect with a fresh bootstrap after a backoff (closed, silent, error, busy bootstrap).
    case retry(String)
    /// Stop and report: documented fatal error (bad credentials, too many connections).
    case fatal(String)
    /// Stop without fighting: the platform handed the bot to another holder.
    case stop(String)
}

/// Exponential backoff with jitter, capped (pure).
public struct Backoff: Sendable, Equatable {
    public var base: Double
    public var cap: Double
    /// Fraction of the delay added at random (0.2 = up to +20 %).
    public var jitter: Double

    public init(base: Double = 1, cap: Double = 60, jitter: Double = 0.2) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    /// The wait before attempt `attempt` (0 = first retry); `random` in 0..<1.
    public func delay(attempt: Int, random: Double) -> Double {
        let raw = min(base * pow(2, Double(min(attempt, 30))), cap)
        return min(raw * (1 + jitter * random), cap)
    }
}

/// Runs one long connection: a session at a time, reconnecting with backoff and a fresh bootstrap,
/// stopping (and saying so) on fatal errors and on eviction. Returns normally on graceful shutdown.
public struct LongConnectionService: Service {
    public let status: LongConnectionStatus
    let backoff: Backoff
    let logger: Logger
    let session: @Sendable (LongConnectionStatus) async -> SessionEnd

    public init(status: LongConnectionStatus, backoff: Backoff, logger: Logger, session: @escaping @Sendable (LongConnectionStatus) async -> SessionEnd) {
        self.status = status
        self.backoff = backoff
        self.logger = logger
        self.session = session
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    func loop() async {
        var failures = 0
        let name = status.snapshot.name
        while !Task.isCancelled {
            status.set(.connecting)
            let started = status.snapshot.sessionsStarted.count
            let end = await session(status)
            if Task.isCancelled { return }
            switch end {
            case .fatal(let reason):
                status.set(.fatal(reason), error: reason)
                logger.error("long connection stopped: fatal error from the platform; fix the config and restart", metadata: ["connection": "\(name)", "reason": "\(reason)"])
                return
            case .stop(let reason):
                status.set(.stopped(reason), error: reason)
                logger.error("long connection stopped: the platform gave the bot to another holder; not reconnecting", metadata: ["connection": "\(name)", "reason": "\(reason)"])
                return
            case .retry(let reason):
                // A session that got connected resets the ladder.
                if status.snapshot.sessionsStarted.count > started { failures = 0 }
                let wait = backoff.delay(attempt: failures, random: Double.random(in: 0..<1))
                failures += 1
                status.set(.backingOff, error: reason)
                logger.warning("long connection lost; reconnecting", metadata: ["connection": "\(name)", "reason": "\(reason)", "wait_s": "\(wait)"])
                try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
            }
        }
    }
}

/// One WebSocket session: inbound messages and a periodic tick merged into one event stream, so a
/// platform's loop can answer frames, send keepalives and notice silence without racing itself.
enum SocketEvent: Sendable {
    case message(WebSocketMessage)
    case tick
    case closed(String)
}

struct SocketTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "\(what) timed out" }
}

enum SocketSession {
    /// Connects to `url` and runs `body` with the merged event stream and the writer. The upgrade
    /// must complete within `connectTimeout` (a gateway that accepts TCP and never answers is cut off).
    /// - Returns: what `body` returned, or `.retry` describing the connect failure.
    static func run(
        url: String, connectTimeout: Double, tick: Double, logger: Logger,
        body: @escaping @Sendable (AsyncStream<SocketEvent>, WebSocketOutboundWriter) async -> SessionEnd
    ) async -> SessionEnd {
        let outcome = NIOLockedValueBox<SessionEnd?>(nil)
        let upgraded = NIOLockedValueBox(false)
        let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, closeTimeout: .seconds(2), autoPing: .disabled)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                        upgraded.withLockedValue { $0 = true }
                        let (events, continuation) = AsyncStream<SocketEvent>.makeStream()
                        let result = await withTaskGroup(of: Void.self) { inner -> SessionEnd in
                            inner.addTask {
                                do {
                                    for try await message in inbound.messages(maxSize: 1 << 22) { continuation.yield(.message(message)) }
                                    continuation.yield(.closed("the server closed the socket"))
                                } catch {
                                    continuation.yield(.closed("read failed: \(error)"))
                                }
                            }
                            inner.addTask {
                                while !Task.isCancelled {
                                    try? await Task.sleep(for: .milliseconds(Int64(tick * 1000)))
                                    continuation.yield(.tick)
                                }
                            }
                            let end = await body(events, outbound)
                            continuation.finish()
                            inner.cancelAll()
                            return end
                        }
                        outcome.withLockedValue { $0 = result }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(connectTimeout * 1000)))
                    if !upgraded.withLockedValue({ $0 }) { throw SocketTimeout(what: "WebSocket upgrade") }
                    try await Task.sleep(for: .seconds(86_400 * 365))
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            if let end = outcome.withLockedValue({ $0 }) { return end }
            return .retry("WebSocket connect failed: \(error)")
        }
        return outcome.withLockedValue { $0 } ?? .retry("the socket closed before the session started")
    }

    /// Runs `body` with a deadline; nil when it did not finish in time. Returns at the deadline even
    /// when `body` ignores cancellation (it then finishes on its own, unobserved).
    static func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
        let once = NIOLockedValueBox<CheckedContinuation<Result<T, any Error>?, Never>?>(nil)
        @Sendable func give(_ value: Result<T, any Error>?) {
            once.withLockedValue { continuation in
                continuation?.resume(returning: value)
                continuation = nil
            }
        }
        return await withCheckedContinuation { continuation in
            once.withLockedValue { $0 = continuation }
            let work = Task {
                do { give(.success(try await body())) } catch { give(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                give(nil)
                work.cancel()
            }
        }
    }
}

/// Persist, then acknowledge: commits a pushed message through the same `Ingestor` webhooks use and
/// says whether the push may be acknowledged. A push from a chat no unit is bound to, or one the
/// adapter ignores, is acknowledged without storing; a push that could not be committed within
/// `budget` seconds is not, so the platform delivers it again (a duplicate then commits nothing new).
struct PushIntake: Sendable {
    let engine: Engine
    let ingestor: Ingestor
    let budget: Double

    enum Verdict: Sendable, Equatable {
        case acknowledge(stored: Bool)
        case withhold(String)
    }

    func take(_ message: ChatMessage) async -> Verdict {
        guard engine.config.org.unit(platform: message.platform, chat: message.chat) != nil else {
            engine.logger.notice("pushed message from a chat no unit is bound to", metadata: ["platform": "\(message.platform)", "chat": "\(message.chat)"])
            return .acknowledge(stored: false)
        }
        let ingestor = ingestor
        switch await SocketSession.within(budget, { try await ingestor.submit(message) }) {
        case .success(let result)?:
            return .acknowledge(stored: result != .duplicate)
        case .failure(let error)?:
            engine.logger.error("could not commit a pushed message; not acknowledged", metadata: ["error": "\(error)"])
            return .withhold("\(error)")
        case nil:
            engine.logger.error("pushed message not committed within the ACK budget; not acknowledged", metadata: ["budget_s": "\(budget)"])
            return .withhold("not committed within \(budget) s")
        }
    }
}
