import Foundation

/// Why a connection attempt or a running connection failed, as the supervisor acts on it.
public enum ConnectionFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// A passing failure (network, 5xx, time-out, silent socket, closed by the platform): reconnect with backoff.
    case retry(String)
    /// The platform said slow down (HTTP 429, `Throttling`): reconnect with backoff, never sooner than the floor.
    case rateLimited(String)
    /// Retrying cannot help (bad credentials, too many connections, evicted by another holder): stop and report.
    case fatal(String)

    public var description: String {
        switch self {
        case .retry(let reason): reason
        case .rateLimited(let reason): "rate limited: \(reason)"
        case .fatal(let reason): "fatal: \(reason)"
        }
    }

    public var reason: String {
        switch self {
        case .retry(let reason), .rateLimited(let reason), .fatal(let reason): reason
        }
    }
}

/// Timing of one platform connection: keepalive, silence deadline, backoff. All in seconds.
public struct ConnectionPolicy: Sendable, Hashable {
    /// How often the client sends its own keepalive (0 disables it).
    public var keepalive: Double
    /// A connection on which no frame of any kind arrived for this long is dead: close it and reconnect.
    public var deadAfter: Double
    /// Time-out of every HTTP call of the bootstrap (and of the WebSocket upgrade).
    public var bootstrapTimeout: Double
    /// First retry delay after a failed attempt; doubles on each further failure.
    public var initialBackoff: Double
    /// Largest delay between attempts, jitter included.
    public var maxBackoff: Double
    /// Random extra delay, as a fraction of the delay (0.2 = up to 20 % more).
    public var jitter: Double
    /// Smallest delay after the platform answered "rate limited".
    public var rateLimitedFloor: Double
    /// A connection down longer than this makes /healthz degraded.
    public var degradedAfter: Double

    public init(
        keepalive: Double, deadAfter: Double, bootstrapTimeout: Double = 10, initialBackoff: Double = 1,
        maxBackoff: Double = 60, jitter: Double = 0.2, rateLimitedFloor: Double = 5, degradedAfter: Double = 60
    ) {
        self.keepalive = keepalive
        self.deadAfter = deadAfter
        self.bootstrapTimeout = bootstrapTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.jitter = jitter
        self.rateLimitedFloor = rateLimitedFloor
        self.degradedAfter = degradedAfter
    }

    /// The delay before attempt `failures + 1` after `failures` consecutive failed attempts:
    /// `initialBackoff · 2^(failures-1)` plus up to `jitter` of it, capped at `maxBackoff` (jitter included).
    /// - Parameters:
    ///   - failures: consecutive failures so far (≥ 1); 0 means the last connection worked: reconnect at once.
    ///   - random: a number in [0, 1) (injected so the function stays pure).
    public func backoff(failures: Int, random: Double) -> Double {
        guard failures > 0 else { return 0 }
        let exponent = Double(min(failures - 1, 30))
        let base = min(maxBackoff, initialBackoff * pow(2, exponent))
        let spread = base * jitter * min(max(random, 0), 1)
        return min(maxBackoff, base + spread)
    }
}

/// The life of one platform connection as a pure value: an event goes in, the new state and the
/// actions to perform come out. The supervisor (LeagueServer/Connections) performs the actions;
/// this type never touches a socket or a clock.
public struct ConnectionMachine: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Not started yet.
        case idle
        /// Bootstrap and WebSocket upgrade running.
        case connecting
        /// Socket open since the date.
        case connected(since: Date)
        /// Waiting before the next attempt.
        case backingOff(until: Date)
        /// Will not retry (fatal error, evicted, shut down).
        case stopped(reason: String)

        /// `idle`, `connecting`, `connected`, `backoff`, `stopped`.
        public var name: String {
            switch self {
            case .idle: "idle"
            case .connecting: "connecting"
            case .connected: "connected"
            case .backingOff: "backoff"
            case .stopped: "stopped"
            }
        }
    }

    public enum Event: Sendable, Hashable {
        /// The supervisor starts (or a backoff delay has passed): connect now.
        case start(Date)
        /// The socket is open (upgrade done, subscription accepted).
        case connected(Date)
        /// A frame of any kind arrived.
        case frame(Date)
        /// The platform asked to rotate and the new socket is open: counts as a reconnect, stays connected.
        case rotated(Date)
        /// The attempt or the open socket failed. `random` in [0, 1) picks the jitter.
        case failed(ConnectionFailure, at: Date, random: Double)
        /// Time passes: checks the silence deadline of an open socket.
        case tick(Date)
        /// Graceful shutdown.
        case shutdown
    }

    public enum Action: Sendable, Hashable {
        /// Run a fresh bootstrap and open a socket.
        case connect
        /// Sleep until the date, then feed `.start`.
        case wait(until: Date)
        /// Close the open socket: it is dead (the reason is logged).
        case closeSocket(reason: String)
        /// Log the failure at error level and show it in /healthz; no further attempts.
        case reportFatal(String)
    }

    public let policy: ConnectionPolicy
    public private(set) var state: State = .idle
    /// When the last frame of any kind arrived (on any socket of this connection).
    public private(set) var lastFrameAt: Date?
    public private(set) var lastError: String?
    /// Since when no socket is open (nil while connected). Starts at the first `.start`.
    public private(set) var downSince: Date?
    /// When each reconnect (or rotation) succeeded, the last hour only.
    public private(set) var reconnects: [Date] = []
    /// Every reconnect (or rotation) since the machine was made: the metrics' monotonic counter.
    public private(set) var reconnectsTotal = 0
    /// Consecutive failed attempts since a socket last delivered a frame.
    public private(set) var failures = 0
    private var everConnected = false

    public init(policy: ConnectionPolicy) {
        self.policy = policy
    }

    /// Applies one event.
    /// - Returns: the actions to perform, in order.
    public mutating func handle(_ event: Event) -> [Action] {
        if case .stopped = state { return [] }
        switch event {
        case .start(let now):
            if downSince == nil { downSince = now }
            state = .connecting
            return [.connect]
        case .connected(let now):
            if everConnected { record(reconnectAt: now) }
            everConnected = true
            state = .connected(since: now)
            downSince = nil
            return []
        case .frame(let now):
            lastFrameAt = now
            failures = 0
            return []
        case .rotated(let now):
            record(reconnectAt: now)
            return []
        case .failed(let failure, let now, let random):
            lastError = failure.description
            if case .fatal(let reason) = failure {
                state = .stopped(reason: reason)
                if downSince == nil { downSince = now }
                return [.reportFatal(reason)]
            }
            let wasConnected: Bool
            if case .connected = state { wasConnected = true } else { wasConnected = false }
            if downSince == nil { downSince = now }
            // A socket that delivered frames and then dropped reconnects at once; failed attempts back off.
            if !(wasConnected && failures == 0) || failure.isRateLimited { failures += 1 }
            var delay = policy.backoff(failures: failures, random: random)
            if failure.isRateLimited { delay = min(policy.maxBackoff, max(delay, policy.rateLimitedFloor)) }
            let until = now.addingTimeInterval(delay)
            state = .backingOff(until: until)
            return [.wait(until: until)]
        case .tick(let now):
            guard case .connected(let since) = state else { return [] }
            let last = max(lastFrameAt ?? since, since)
            let silent = now.timeIntervalSince(last)
            guard silent > policy.deadAfter else { return [] }
            return [.closeSocket(reason: "no frame for \(Int(silent.rounded())) s (dead_after \(Self.format(policy.deadAfter)))")]
        case .shutdown:
            state = .stopped(reason: "shut down")
            return []
        }
    }

    /// Reconnects within the hour before `now`.
    public func reconnectsInLastHour(at now: Date) -> Int {
        reconnects.filter { now.timeIntervalSince($0) <= 3600 }.count
    }

    /// True when /healthz should answer degraded: stopped by a fatal error, or down longer than the policy allows.
    public func isDegraded(at now: Date) -> Bool {
        if case .stopped(let reason) = state { return reason != "shut down" }
        guard let downSince else { return false }
        return now.timeIntervalSince(downSince) > policy.degradedAfter
    }

    private mutating func record(reconnectAt now: Date) {
        reconnects.append(now)
        reconnectsTotal += 1
        reconnects.removeAll { now.timeIntervalSince($0) > 3600 }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}

extension ConnectionFailure {
    var isRateLimited: Bool {
        if case .rateLimited = self { return true }
        return false
    }
}
