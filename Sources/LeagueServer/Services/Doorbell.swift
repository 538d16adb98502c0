import Foundation
import NIOConcurrencyHelpers

/// Wakes a sleeping service early: new work was committed, or a test moved the clock.
public final class Doorbell: Sendable {
    private let state = NIOLockedValueBox<(rung: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    /// Wakes every waiter; a ring with nobody waiting is kept for the next wait.
    public func ring() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            let waiters = state.waiters
            state.waiters = []
            state.rung = waiters.isEmpty
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until rung or until `seconds` pass, whichever is first; returns at once on cancellation.
    public func wait(seconds: Double) async {
        if state.withLockedValue({ state in
            defer { state.rung = false }
            return state.rung
        }) { return }
        guard seconds > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        self.state.withLockedValue { $0.waiters.append(continuation) }
                    }
                } onCancel: {
                    self.ring()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
