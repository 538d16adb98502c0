import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Wakes a sleeping service early: new work was committed, or a test moved the clock.
///
/// Every `wait` has an id, so a wake-up (ring, time-out or cancellation) that races with the
/// waiter registering itself is never lost: it is remembered for that id until the waiter looks.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var nextID = 0
        var active: Set<Int> = []
        var woken: Set<Int> = []
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Wakes every waiter; a ring with nobody waiting is kept for the next wait.
    public func ring() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            state.woken.formUnion(state.active)
            if state.active.isEmpty { state.rung = true }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until rung or until `seconds` pass, whichever is first; returns at once on cancellation
    /// and on graceful shutdown (SIGTERM), so a sleeping service notices the stop without delay.
    public func wait(seconds: Double) async {
        let id: Int? = state.withLockedValue { state in
            if state.rung {
                state.rung = false
                return nil
            }
            state.nextID += 1
            state.active.insert(state.nextID)
            return state.nextID
        }
        guard let id, seconds > 0 else { return }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            self.wake(id)
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLockedValue { state -> Bool in
                        if state.woken.remove(id) != nil { return true }
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
        timer.cancel()
        state.withLockedValue { state in
            state.active.remove(id)
            state.woken.remove(id)
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
