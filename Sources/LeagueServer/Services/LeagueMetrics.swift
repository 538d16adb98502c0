import CoreMetrics
import Foundation
import LeagueCore
import NIOConcurrencyHelpers
import Prometheus

/// The bot's metrics (issue 14), through swift-metrics with the swift-prometheus backend. One facade
/// so that every call site is one line; the registry belongs to the app (no global bootstrap), so
/// tests and several bots in one process each see their own figures.
///
/// Counters and histograms are updated where things happen; the backlog gauges (outbox pending and
/// age of the oldest, timers due, dead letters) are read from the store when `/metrics` is scraped.
public final class LeagueMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// Reconnects already added to each connection's counter (the registry keeps the running total).
    private let reconnectsCounted = NIOLockedValueBox<[String: Int]>([:])
    /// Counters made once and kept: making one per event (a registry lookup with its label arrays) was a
    /// visible share of a webhook's CPU (issue 16).
    private let counters = NIOLockedValueBox<[CounterKey: CoreMetrics.Counter]>([:])
    private let ingestTimer: CoreMetrics.Timer
    private let latenessRecorder: CoreMetrics.Recorder

    /// A counter's label and the values of its (at most two) dimensions.
    private struct CounterKey: Hashable {
        var label: String
        var first: String
        var second: String
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Seconds; the 3- and 10-minute promises sit inside the range.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4),
        ]
        factory.valueHistogramBuckets["leagueops_timer_lateness_seconds"] = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 180, 600]
        self.factory = factory
        ingestTimer = CoreMetrics.Timer(label: "leagueops_ingest_seconds", factory: factory)
        latenessRecorder = CoreMetrics.Recorder(label: "leagueops_timer_lateness_seconds", factory: factory)
    }

    /// The counter `label` with dimensions `(firstName: first, secondName: second)` (names empty: none).
    private func counter(_ label: String, _ firstName: String = "", _ first: String = "", _ secondName: String = "", _ second: String = "") -> CoreMetrics.Counter {
        let key = CounterKey(label: label, first: first, second: second)
        if let counter = counters.withLockedValue({ $0[key] }) { return counter }
        var dimensions: [(String, String)] = []
        if !firstName.isEmpty { dimensions.append((firstName, first)) }
        if !secondName.isEmpty { dimensions.append((secondName, second)) }
        let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        counters.withLockedValue { $0[key] = counter }
        return counter
    }

    /// A webhook request: `accepted`, `duplicate`, `refused` (signature, decoding), `unbound` (no unit), `unavailable` (503).
    public func inbound(platform: String, outcome: String) {
        counter("leagueops_inbound_messages_total", "platform", platform, "outcome", outcome).increment()
    }

    /// A chat command handled: `ok`, `refused`, `error`, or `unparsed` for a command that was not understood.
    public func command(_ id: String, outcome: String) {
        counter("leagueops_commands_total", "command", id, "outcome", outcome).increment()
    }

    /// From a webhook's arrival at the ingestor to its commit.
    public func ingestLatency(_ duration: Duration) {
        ingestTimer.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// A send to a platform: `delivered`, `rate_limited`, `retry`, `failed`.
    public func send(platform: String, outcome: String, count: Int = 1) {
        counter("leagueops_sends_total", "platform", platform, "outcome", outcome).increment(by: count)
    }

    /// A robot answered "too many requests" (429 or the platform's equivalent).
    public func robotRateLimited(platform: String) {
        counter("leagueops_robot_rate_limited_total", "platform", platform).increment()
    }

    /// Messages held back by the bot's own per-robot rate window.
    public func postponed(_ count: Int) {
        counter("leagueops_outbox_postponed_total").increment(by: count)
    }

    /// A message put aside as dead after its attempts.
    public func deadLetter(platform: String) {
        counter("leagueops_dead_letters_total", "platform", platform).increment()
    }

    /// A timer fired, and how late after its due time.
    public func timerFired(kind: String, lateness: Double) {
        counter("leagueops_timers_fired_total", "kind", kind).increment()
        latenessRecorder.record(max(lateness, 0))
    }

    /// A step of a task's escalation ladder taken (0 reminder, 1 supervisors, 2… further up).
    public func escalationStep(_ step: Int) {
        counter("leagueops_escalation_steps_total", "step", String(step)).increment()
    }

    /// The backlog as the store shows it at scrape time.
    public func backlog(pendingOutbox: Int, oldestPendingSeconds: Double, deadOutbox: Int, timersDue: Int, unprocessedInbound: Int) {
        CoreMetrics.Gauge(label: "leagueops_outbox_pending", factory: factory).record(pendingOutbox)
        CoreMetrics.Gauge(label: "leagueops_outbox_oldest_pending_seconds", factory: factory).record(oldestPendingSeconds)
        CoreMetrics.Gauge(label: "leagueops_outbox_dead", factory: factory).record(deadOutbox)
        CoreMetrics.Gauge(label: "leagueops_timers_due", factory: factory).record(timersDue)
        CoreMetrics.Gauge(label: "leagueops_inbound_unprocessed", factory: factory).record(unprocessedInbound)
    }

    /// The states a connection is reported in: `connected` (socket open), `reconnecting` (not open
    /// and will try again: before the first connect, connecting, backing off) and `stopped` (no more
    /// attempts: a fatal error, or shut down).
    public static let connectionStates = ["connected", "reconnecting", "stopped"]

    /// The connection state a machine state is reported as.
    public static func connectionState(_ machineState: String) -> String {
        switch machineState {
        case "connected": return "connected"
        case "stopped": return "stopped"
        default: return "reconnecting"
        }
    }

    /// The platform connections (stream / long-connection modes) as `ConnectionRegistry` shows them at
    /// scrape time: `leagueops_connection_state{platform,state}` is 1 for the current state and 0 for
    /// the others, `leagueops_connection_reconnects_total{platform}` counts reconnects and rotations since
    /// start-up, `leagueops_connection_last_frame_age_seconds{platform}` is the silence since the last
    /// frame of any kind (absent until the first frame), `leagueops_connection_degraded{platform}` is 1
    /// when /healthz calls the connection degraded.
    public func connections(_ entries: [ConnectionRegistry.Entry]) {
        for entry in entries {
            let current = Self.connectionState(entry.state)
            for state in Self.connectionStates {
                CoreMetrics.Gauge(label: "leagueops_connection_state", dimensions: [("platform", entry.name), ("state", state)], factory: factory)
                    .record(state == current ? 1 : 0)
            }
            let added = reconnectsCounted.withLockedValue { counted -> Int in
                let delta = max(entry.reconnectsTotal - counted[entry.name, default: 0], 0)
                counted[entry.name, default: 0] += delta
                return delta
            }
            // Created even at 0, so the series exists from the first scrape (rate() needs the start).
            CoreMetrics.Counter(label: "leagueops_connection_reconnects_total", dimensions: [("platform", entry.name)], factory: factory).increment(by: added)
            if let age = entry.lastFrameAgeSeconds {
                CoreMetrics.Gauge(label: "leagueops_connection_last_frame_age_seconds", dimensions: [("platform", entry.name)], factory: factory).record(age)
            }
            CoreMetrics.Gauge(label: "leagueops_connection_degraded", dimensions: [("platform", entry.name)], factory: factory).record(entry.degraded ? 1 : 0)
        }
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
