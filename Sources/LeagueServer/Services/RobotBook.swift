import Foundation
import LeagueCore
import LeaguePlatforms
import NIOConcurrencyHelpers

/// The outbox's view of its robots: rate windows and pauses on the monotonic clock, which robots
/// have a batch in flight, and the circuit breaker's failures in a row. Rebuilt from the store
/// (recent sends, pauses) at start-up, so a restart mid-burst keeps every platform's limit.
final class RobotBook: Sendable {
    /// What a finished batch did to its robot.
    enum Decision: Sendable {
        /// Paused (rate limited, or the breaker opened after a failure): store this pause.
        case paused(RobotPause)
        /// Delivered again after a pause: the stored pause ends.
        case resumed
        case unchanged

        var pause: RobotPause? {
            if case .paused(let pause) = self { return pause }
            return nil
        }
    }

    /// A robot's batch that has been sent, waiting for the outbox loop to write its outcome.
    struct Finished: Sendable {
        var robot: String
        var outcomes: [(OutboxPlanner.Send, DeliveryOutcome)]
        /// Rows of the batch not tried (after the first failure, or at shutdown).
        var waiting: [Int64]
        var decision: Decision
        var at: Date
    }

    private struct State {
        var finished: [Finished] = []
        var windows: [String: RateWindow] = [:]
        var busy: Set<String> = []
        var failures: [String: Int] = [:]
        var since: [String: Date] = [:]
        /// Robots with a pause row in the store.
        var paused: Set<String> = []
        /// Wall clock minus monotonic clock at the last look (a drop is a backward step).
        var offset: Double?
        var restored = false
    }

    private let state = NIOLockedValueBox(State())

    var needsRestore: Bool { state.withLockedValue { !$0.restored } }

    /// Robots with a batch in flight.
    var busy: Set<String> { state.withLockedValue { $0.busy } }

    /// Rebuilds windows and pauses from the store: wall times become monotonic ones, and a pause
    /// never lasts longer from now than it was set for (a clock step cannot stretch it).
    func restore(pauses: [RobotPause], sends: [RobotSend], adapters: [String: any PlatformAdapter], wall: Date, mono: Date) {
        state.withLockedValue { state in
            func window(_ robot: String, _ platform: String) -> RateWindow {
                let limit = adapters[platform]?.rateLimit ?? .unlimited
                return state.windows[robot] ?? RateWindow(perMinute: limit.perMinute, perSecond: limit.perSecond)
            }
            for send in sends {
                var value = window(send.robotID, send.platform)
                let age = max(0, wall.timeIntervalSince(send.at))
                value.record(at: mono.addingTimeInterval(-age))
                state.windows[send.robotID] = value
            }
            for pause in pauses {
                var value = window(pause.robotID, pause.platform)
                let remaining = min(max(pause.until.timeIntervalSince(wall), 0), pause.seconds)
                value.pause(until: mono.addingTimeInterval(remaining))
                state.windows[pause.robotID] = value
                state.failures[pause.robotID] = pause.failures
                state.since[pause.robotID] = pause.since
                state.paused.insert(pause.robotID)
            }
            state.offset = wall.timeIntervalSince1970 - mono.timeIntervalSinceReferenceDate
            state.restored = true
        }
    }

    /// How far the wall clock stepped back since the last look (nil: it did not, beyond a second).
    func backwardStep(wall: Date, mono: Date) -> Double? {
        state.withLockedValue { state in
            let offset = wall.timeIntervalSince1970 - mono.timeIntervalSinceReferenceDate
            defer { state.offset = offset }
            guard let previous = state.offset, previous - offset > 1 else { return nil }
            return previous - offset
        }
    }

    /// Plans due entries against the robots' windows (monotonic `now`).
    func plan(_ entries: [OutboxEntry], adapters: [String: any PlatformAdapter], now: Date) -> OutboxPlanner.Plan {
        state.withLockedValue { state in OutboxPlanner.plan(entries, windows: &state.windows, adapters: adapters, now: now) }
    }

    func finish(_ batch: Finished) { state.withLockedValue { $0.finished.append(batch) } }

    func takeFinished() -> [Finished] {
        state.withLockedValue { state in
            defer { state.finished = [] }
            return state.finished
        }
    }

    func requeue(_ batches: [Finished]) { state.withLockedValue { $0.finished.insert(contentsOf: batches, at: 0) } }

    func take(_ robots: Set<String>) { state.withLockedValue { $0.busy.formUnion(robots) } }

    func release(_ robot: String) { _ = state.withLockedValue { $0.busy.remove(robot) } }

    /// The circuit breaker: "rate limited" pauses the robot for the time the platform asks (60 s if
    /// it does not say); a time-out, 5xx or refused connection pauses it for the retry backoff of its
    /// failures in a row; a delivery closes the breaker.
    func afterBatch(robot: String, platform: String, stop: DeliveryOutcome?, delivered: Bool, policy: RetryPolicy, wall: Date, mono: Date) -> Decision {
        state.withLockedValue { state in
            let kind: RobotPause.Kind
            let seconds: Double
            let reason: String
            switch stop {
            case .rateLimited(let after, let why):
                kind = .rateLimited
                seconds = max(after ?? 60, 0.001)
                reason = why
            case .retryLater(let why):
                kind = .failing
                state.failures[robot, default: 0] += 1
                seconds = policy.delay(afterFailures: state.failures[robot]!)
                reason = why
            case .delivered, .permanentFailure, nil:
                guard delivered else { return .unchanged }
                state.failures[robot] = nil
                state.since[robot] = nil
                return state.paused.remove(robot) != nil ? .resumed : .unchanged
            }
            let since = state.since[robot] ?? wall
            state.since[robot] = since
            state.paused.insert(robot)
            state.windows[robot, default: RateWindow(perMinute: nil, perSecond: nil)].pause(until: mono.addingTimeInterval(seconds))
            return .paused(
                RobotPause(
                    robotID: robot, platform: platform, kind: kind, until: wall.addingTimeInterval(seconds), seconds: seconds,
                    since: since, failures: state.failures[robot] ?? 0, reason: reason))
        }
    }
}
