import Foundation
import LeagueCore
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Wakes sleeping code early: new work was committed, or a test moved the clock.
///
/// Every ring advances a generation number. A service sleeping on its own bell calls
/// `wait(seconds:)`: a ring that came while it was busy is kept, so its next wait returns at once.
/// Many readers can share one bell (the dashboard's live streams): each remembers the generation it
/// last read at and calls `wait(after:seconds:)`, which returns at once when the bell has rung since.
/// A service sleeping until a time on the engine's clock (its next due timer or outbox attempt) passes
/// that deadline and the clock to `wait(seconds:orUntil:on:)`, so a test that moves a manual clock
/// past it wakes the service directly.
/// Every wait has an id, so a wake-up (ring, time-out or cancellation) that races with the waiter
/// registering itself is never lost: it is remembered for that id until the waiter looks.
public final class Doorbell: Sendable {
    private struct State {
        var generation: UInt64 = 0
        /// The generation `wait(seconds:)` last returned at.
        var consumed: UInt64 = 0
        var nextID = 0
        var active: Set<Int> = []
        var woken: Set<Int> = []
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// How many times the bell has rung: read it before reading the store, pass it to `wait(after:seconds:)`.
    public var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Wakes every waiter; a ring with nobody waiting is kept for the next wait.
    public func ring() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            state.woken.formUnion(state.active)
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until rung (or rung since the last return) or until `seconds` pass, whichever is first;
    /// returns at once on cancellation and on graceful shutdown (SIGTERM), so a sleeping service
    /// notices the stop without delay.
    public func wait(seconds: Double) async {
        await wait(seconds: seconds, orUntil: nil, on: SystemClock())
    }

    /// `wait(seconds:)` that also returns once `clock` reaches `deadline` (a manual clock moved past it
    /// wakes the waiter at once); `seconds` of real time still bound the wait.
    public func wait(seconds: Double, orUntil deadline: Date?, on clock: any WallClock) async {
        let seen = state.withLockedValue { $0.consumed }
        let now = await wait(after: seen, seconds: seconds, deadline: deadline, clock: clock)
        state.withLockedValue { $0.consumed = max($0.consumed, now) }
    }

    /// Waits until the bell rings after generation `seen` (at once when it already has), or `seconds`
    /// pass, or the task is cancelled or the server shuts down gracefully.
    /// - Returns: the generation when it woke.
    public func wait(after seen: UInt64, seconds: Double) async -> UInt64 {
        await wait(after: seen, seconds: seconds, deadline: nil, clock: SystemClock())
    }

    private func wait(after seen: UInt64, seconds: Double, deadline: Date?, clock: any WallClock) async -> UInt64 {
        // On the system clock the deadline is one more real-time bound (of at least a millisecond).
        var seconds = seconds
        var deadline = deadline
        if let due = deadline, clock is SystemClock {
            seconds = min(seconds, max(due.timeIntervalSince(clock.now()), 0.001))
            deadline = nil
        }
        let id: Int? = state.withLockedValue { state in
            guard state.generation == seen, seconds > 0 else { return nil }
            state.nextID += 1
            state.active.insert(state.nextID)
            return state.nextID
        }
        guard let id else { return generation }
        var timers = [
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                self.wake(id)
            }
        ]
        if let deadline {
            timers.append(
                Task {
                    await clock.sleep(until: deadline)
                    self.wake(id)
                })
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLockedValue { state -> Bool in
                        if state.woken.remove(id) != nil || state.generation != seen { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                self.wake(id)
            }
        } onGracefulShutdown: {
            self.wake(id)
        }
        for timer in timers { timer.cancel() }
        return state.withLockedValue { state in
            state.active.remove(id)
            state.woken.remove(id)
            return state.generation
        }
    }

    /// Wakes one waiter, or remembers the wake-up if it has not registered yet.
    private func wake(_ id: Int) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.active.contains(id) { state.woken.insert(id) }
            return nil
        }
        waiter?.resume()
    }
}
