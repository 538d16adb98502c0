import Foundation
import HummingbirdWSClient
import LeagueCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import ServiceLifecycle

/// Keeps one platform connection open for as long as the bot runs (a `Service` in the bot's group).
///
/// - Holds the connection's lease (`LeaseStore`) before connecting; without it, waits as standby.
/// - Each attempt runs a fresh bootstrap (the driver's HTTP calls and the WebSocket upgrade are bounded
///   by `policy.bootstrapTimeout`), then reads frames: control frames at once, pushes one after another.
/// - A socket on which no frame of any kind arrived within `policy.deadAfter` is closed and replaced.
/// - Failed attempts back off exponentially with jitter, capped at `policy.maxBackoff` (60 s).
/// - A rotation request (DingTalk `disconnect`) opens the new socket before the old one is closed; the
///   old one keeps handling (and ACKing) what arrives on it, and is closed once every push it received
///   is handled and it has been quiet for `retireQuiet` (at most `retireLimit` after the new one opened).
/// - A fatal failure (bad credentials, too many connections, evicted) stops retrying; /healthz and the
///   log say why.
/// The states, delays and counters live in the pure `ConnectionMachine` inside `ConnectionRegistry`.
public final class ConnectionSupervisor: Service, Sendable {
    /// Lease settings: who this instance is and how long a grant lasts.
    public struct LeaseSettings: Sendable {
        public var store: any LeaseStore
        /// The lease's name (`dingtalk:<client_id>`).
        public var name: String
        /// This instance.
        public var holder: String
        /// Seconds a grant lasts; renewed every third of it.
        public var ttl: Double = 30
    }

    enum Signal: Sendable {
        case opened(Int)
        case frame(Int)
        case rotate(Int, String)
        case ended(Int, ConnectionFailure)
        case retryDue
        case leaseLost(String)
    }

    /// One socket (or attempt) and how to close it: at once (`stop`), or once what already arrived on it
    /// is handled (`retire`, after a rotation).
    final class Live: Sendable {
        enum Ending: Sendable { case open, retire, stop }
        let id: Int
        private let state = NIOLockedValueBox(Ending.open)
        let stopped: AsyncStream<Void>
        private let stopping: AsyncStream<Void>.Continuation

        init(id: Int) {
            self.id = id
            (stopped, stopping) = AsyncStream<Void>.makeStream()
        }

        func stop() { end(.stop) }

        /// The replacement is open: close this socket after the pushes it already received are
        /// handled and ACKed, and it has been quiet for a moment.
        func retire() { end(.retire) }

        private func end(_ ending: Ending) {
            state.withLockedValue { if ending == .stop || $0 == .open { $0 = ending } }
            stopping.finish()
        }

        var ending: Ending { state.withLockedValue { $0 } }
    }

    /// How long a retiring socket must be quiet (nothing queued, no frame) before it is closed, and the
    /// longest it is kept after its replacement opened (DingTalk closes it 10 s after `disconnect`).
    static let retireQuiet: Duration = .milliseconds(500)
    static let retireLimit: Duration = .seconds(10)

    public let driver: any StreamDriver
    public let registry: ConnectionRegistry
    let clock: any WallClock
    let logger: Logger
    let random: @Sendable () -> Double
    let lease: LeaseSettings?
    /// The lease currently held (tests, and a multi-instance store's fence checks).
    let heldLease = NIOLockedValueBox<ConnectionLease?>(nil)

    /// - Parameters:
    ///   - random: numbers in [0, 1) for the jitter (tests pass a fixed one).
    public init(
        driver: any StreamDriver, registry: ConnectionRegistry, clock: any WallClock, logger: Logger,
        lease: LeaseSettings? = nil, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.driver = driver
        self.registry = registry
        self.clock = clock
        self.logger = logger
        self.lease = lease
        self.random = random
        registry.register(driver.name, policy: driver.policy)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.supervise() }
        // Stopped for good (fatal, lease lost): stay in the group, or the whole bot would shut down,
        // and keep /healthz telling why until the operator fixes the config and restarts.
        try? await gracefulShutdown()
        registry.apply(driver.name, .shutdown)
        if let lease, let held = heldLease.withLockedValue({ $0 }) {
            try? await lease.store.releaseLease(held.name, holder: held.holder, token: held.token)
        }
    }

    private func supervise() async {
        let name = driver.name
        let (signals, continuation) = AsyncStream<Signal>.makeStream()
        var nextID = 0
        var current: Live?
        var retiring: [Int: Live] = [:]
        var tasks: [Task<Void, Never>] = []
        var stopped = false

        func open() -> Live {
            nextID += 1
            let live = Live(id: nextID)
            tasks.append(Task { await self.connection(live, continuation) })
            return live
        }
        func start() {
            for action in registry.apply(name, .start(clock.now())) where action == .connect { current = open() }
        }

        guard await acquireLease() else { return }
        let renewal = Task { await self.renewLease(continuation) }
        start()
        await withTaskCancellationHandler {
            for await signal in signals {
                switch signal {
                case .opened(let id):
                    guard id == current?.id else { break }
                    if retiring.isEmpty {
                        registry.apply(name, .connected(clock.now()))
                        logger.info("connection open", metadata: ["platform": "\(name)", "socket": "\(id)"])
                    } else {
                        registry.apply(name, .rotated(clock.now()))
                        logger.info("connection rotated: new socket open, closing the old one", metadata: ["platform": "\(name)", "socket": "\(id)"])
                        for old in retiring.values { old.retire() }
                    }
                case .frame:
                    registry.apply(name, .frame(clock.now()))
                case .rotate(let id, let reason):
                    guard id == current?.id, let live = current else { break }
                    logger.info("platform asked to rotate the connection", metadata: ["platform": "\(name)", "reason": "\(reason)"])
                    retiring[id] = live
                    current = open()
                case .ended(let id, let failure):
                    if retiring.removeValue(forKey: id) != nil { break }
                    guard id == current?.id else { break }
                    current = nil
                    for action in registry.apply(name, .failed(failure, at: clock.now(), random: random())) {
                        switch action {
                        case .wait(let until):
                            let delay = max(0, until.timeIntervalSince(clock.now()))
                            logger.warning(
                                "connection lost; reconnecting",
                                metadata: [
                                    "platform": "\(name)", "error": "\(failure)", "in_seconds": "\(String(format: "%.1f", delay))",
                                ])
                            tasks.append(
                                Task {
                                    try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                                    continuation.yield(.retryDue)
                                })
                        case .reportFatal(let reason):
                            logger.critical(
                                "connection stopped: the platform refused it for good; fix the config and restart",
                                metadata: ["platform": "\(name)", "reason": "\(reason)"])
                            stopped = true
                        case .connect, .closeSocket:
                            break
                        }
                    }
                    if stopped { continuation.finish() }
                case .retryDue:
                    if current == nil && !stopped { start() }
                case .leaseLost(let holder):
                    logger.critical("connection lease lost to another instance; closing the connection", metadata: ["platform": "\(name)", "holder": "\(holder)"])
                    registry.apply(name, .failed(.fatal("lease held by \(holder)"), at: clock.now(), random: 0))
                    continuation.finish()
                }
            }
        } onCancel: {
            continuation.finish()
        }
        renewal.cancel()
        current?.stop()
        for live in retiring.values { live.stop() }
        for task in tasks { task.cancel() }
        // Each socket task ends once its handler saw the stop; bounded, so shutdown never hangs on a peer.
        let started = tasks
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in started { await task.value } }
            group.addTask { try? await Task.sleep(for: .seconds(3)) }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Lease

    private func acquireLease() async -> Bool {
        guard let lease else { return true }
        while !Task.isCancelled {
            do {
                if let granted = try await lease.store.acquireLease(lease.name, holder: lease.holder, now: clock.now(), ttl: lease.ttl) {
                    heldLease.withLockedValue { $0 = granted }
                    logger.info("connection lease held", metadata: ["lease": "\(lease.name)", "token": "\(granted.token)"])
                    return true
                }
                logger.notice("connection lease held by another instance; standing by", metadata: ["lease": "\(lease.name)"])
            } catch {
                logger.error("could not read the connection lease", metadata: ["lease": "\(lease.name)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(Int64(lease.ttl * 1000 / 3)))
        }
        return false
    }

    private func renewLease(_ signals: AsyncStream<Signal>.Continuation) async {
        guard let lease else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(lease.ttl * 1000 / 3)))
            if Task.isCancelled { return }
            do {
                if let granted = try await lease.store.acquireLease(lease.name, holder: lease.holder, now: clock.now(), ttl: lease.ttl) {
                    heldLease.withLockedValue { $0 = granted }
                } else {
                    heldLease.withLockedValue { $0 = nil }
                    signals.yield(.leaseLost("another instance"))
                    return
                }
            } catch {
                // A store hiccup: keep the socket; the grant still runs until it expires.
                logger.warning("could not renew the connection lease", metadata: ["lease": "\(lease.name)", "error": "\(error)"])
            }
        }
    }

    // MARK: One socket

    private func connection(_ live: Live, _ signals: AsyncStream<Signal>.Continuation) async {
        let policy = driver.policy
        let failure: ConnectionFailure
        do {
            let url = try await Self.within(policy.bootstrapTimeout, what: "the bootstrap") { try await self.driver.bootstrap() }
            failure = await socket(url: url, live, signals)
        } catch let error as ConnectionFailure {
            failure = error
        } catch {
            failure = .retry("bootstrap failed: \(error)")
        }
        signals.yield(.ended(live.id, failure))
    }

    /// Opens the WebSocket and runs its session; returns why it ended. Never waits longer than the
    /// bootstrap time-out for the upgrade, even when the peer accepts TCP and never answers.
    private func socket(url: String, _ live: Live, _ signals: AsyncStream<Signal>.Continuation) async -> ConnectionFailure {
        let policy = driver.policy
        let result = OneShot<ConnectionFailure>()
        let opened = NIOLockedValueBox(false)
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        configuration.closeTimeout = .seconds(1)
        if driver.usesWebSocketPing && policy.keepalive > 0 {
            configuration.autoPing = .enabled(timePeriod: .milliseconds(Int64(policy.keepalive * 1000)))
        }
        let client = WebSocketClient(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
            opened.withLockedValue { $0 = true }
            let socket = StreamSocket(id: live.id, writer: outbound)
            signals.yield(.opened(live.id))
            let end = await self.session(inbound: inbound, socket: socket, live: live, signals: signals)
            result.give(end)
        }
        let runner = Task {
            do {
                let close = try await client.run()
                result.give(.retry("the platform closed the connection" + (close.map { " (\($0.closeCode))" } ?? "")))
            } catch {
                result.give(.retry("WebSocket connection failed: \(error)"))
            }
        }
        let watchdog = Task {
            try? await Task.sleep(for: .milliseconds(Int64(policy.bootstrapTimeout * 1000)))
            if !Task.isCancelled && !opened.withLockedValue({ $0 }) {
                result.give(.retry("the WebSocket upgrade did not complete within \(policy.bootstrapTimeout) s"))
                runner.cancel()
            }
        }
        let end = await result.value
        watchdog.cancel()
        live.stop()
        return end
    }

    /// Reads frames until the socket ends, goes silent, is stopped, or the driver asks to stop.
    private func session(
        inbound: WebSocketInboundStream, socket: StreamSocket, live: Live,
        signals: AsyncStream<Signal>.Continuation
    ) async -> ConnectionFailure {
        let driver = driver
        let policy = driver.policy
        let lastFrame = NIOLockedValueBox(ContinuousClock.now)
        /// Pushes read from the socket and not yet handled (a retiring socket closes only at zero).
        let pending = NIOLockedValueBox(0)
        let (work, workInput) = AsyncStream<WebSocketMessage>.makeStream()
        @Sendable func follow(_ outcome: FrameOutcome) -> ConnectionFailure? {
            switch outcome {
            case .handled: return nil
            case .rotate(let reason):
                signals.yield(.rotate(live.id, reason))
                return nil
            case .reconnect(let reason): return .retry(reason)
            case .stop(let failure): return failure
            }
        }
        do {
            try await driver.opened(socket)
        } catch {
            return (error as? ConnectionFailure) ?? .retry("opening the session failed: \(error)")
        }
        return await withTaskGroup(of: ConnectionFailure?.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        lastFrame.withLockedValue { $0 = .now }
                        signals.yield(.frame(live.id))
                        switch driver.lane(of: message) {
                        case .inline:
                            if let end = follow(await driver.receive(message, on: socket)) { return end }
                        case .serial:
                            pending.withLockedValue { $0 += 1 }
                            workInput.yield(message)
                        }
                    }
                    return .retry("the platform closed the connection")
                } catch {
                    return .retry("reading the socket failed: \(error)")
                }
            }
            group.addTask {
                for await message in work {
                    let outcome = await driver.receive(message, on: socket)
                    pending.withLockedValue { $0 -= 1 }
                    if let end = follow(outcome) { return end }
                }
                return nil
            }
            group.addTask {
                let step = Duration.milliseconds(Int64(max(10, min(policy.deadAfter * 1000 / 4, 1000))))
                while !Task.isCancelled {
                    try? await Task.sleep(for: step)
                    let silent = ContinuousClock.now - lastFrame.withLockedValue { $0 }
                    if silent > .milliseconds(Int64(policy.deadAfter * 1000)) {
                        return .retry("no frame for \(silent.components.seconds) s (dead_after \(policy.deadAfter) s); the socket is dead")
                    }
                }
                return nil
            }
            if policy.keepalive > 0 {
                group.addTask {
                    // The interval is read again at least every second: a platform may shorten it.
                    var last = ContinuousClock.now
                    while !Task.isCancelled {
                        let due = last + .milliseconds(Int64(driver.keepaliveInterval * 1000))
                        let now = ContinuousClock.now
                        guard now >= due else {
                            try? await Task.sleep(for: min(due - now, .seconds(1)))
                            continue
                        }
                        last = now
                        do { try await driver.keepalive(socket) } catch { return .retry("keepalive failed: \(error)") }
                    }
                    return nil
                }
            }
            group.addTask {
                for await _ in live.stopped {}
                if live.ending == .retire {
                    let since = ContinuousClock.now
                    while live.ending == .retire, ContinuousClock.now - since < Self.retireLimit {
                        let quiet = ContinuousClock.now - lastFrame.withLockedValue { $0 }
                        if pending.withLockedValue({ $0 }) == 0 && quiet >= Self.retireQuiet { break }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                return .retry("closed by the supervisor")
            }
            var end = ConnectionFailure.retry("the connection ended")
            for await result in group {
                if let result {
                    end = result
                    break
                }
            }
            workInput.finish()
            try? await socket.writer.close(.goingAway, reason: nil)
            group.cancelAll()
            return end
        }
    }

    /// Runs `body`, or fails with `.retry` once `seconds` have passed.
    static func within<T: Sendable>(_ seconds: Double, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw ConnectionFailure.retry("\(what) did not answer within \(seconds) s")
            }
            return value
        }
    }
}

/// Deadlines that do not wait for work which ignores cancellation.
enum Bounded {
    /// The value of `body`, or nil once `seconds` have passed (the work then finishes unobserved).
    static func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
        let once = OneShot<T?>()
        let work = Task { once.give(await body()) }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            once.give(nil)
        }
        let value = await once.value
        timer.cancel()
        if value == nil { work.cancel() }
        return value
    }
}

/// A value given once, awaited once.
final class OneShot<Value: Sendable>: Sendable {
    private let state = NIOLockedValueBox<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    func give(_ value: Value) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Value, Never>? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLockedValue { state -> Value? in
                    if let value = state.value { return value }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
