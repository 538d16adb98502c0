import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Tells the dashboard's open live views (the roll call's Server-Sent Events) that something was
/// committed, so they read the store at once instead of polling it (issue 14).
///
/// The commit paths ring `bell` like the outbox's and the timers' bells (the ingestor after each
/// group commit, the timer service after firing steps, `LeagueApp.wakeAll`); this service relays each
/// ring to every waiting stream by advancing a generation number. A stream remembers the generation
/// it last read at, so a commit that lands while it is busy reading is never lost: its next `wait`
/// returns at once.
public final class LiveUpdates: Service, Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextID = 0
        var active: Set<Int> = []
        var woken: Set<Int> = []
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    /// Rung by the commit paths; relayed to the streams by `run()`.
    public let bell = Doorbell()
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The current generation: read it before reading the store, pass it to `wait(after:seconds:)`.
    public var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Advances the generation and wakes every waiting stream.
    public func publish() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            state.woken.formUnion(state.active)
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the generation moves past `seen`, or `seconds` pass (the bounded fallback), or the
    /// task is cancelled or the server shuts down gracefully.
    /// - Returns: the generation when it woke.
    public func wait(after seen: UInt64, seconds: Double) async -> UInt64 {
        let id: Int? = state.withLockedValue { state in
            guard state.generation == seen else { return nil }
            state.nextID += 1
            state.active.insert(state.nextID)
            return state.nextID
        }
        guard let id else { return generation }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(max(seconds, 0) * 1000)))
            self.wake(id)
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
        timer.cancel()
        return state.withLockedValue { state in
            state.active.remove(id)
            state.woken.remove(id)
            return state.generation
        }
    }

    private func wake(_ id: Int) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.active.contains(id) { state.woken.insert(id) }
            return nil
        }
        waiter?.resume()
    }

    /// Relays every ring of `bell` to the streams until graceful shutdown; then wakes them all once
    /// more so they notice the stop.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await bell.wait(seconds: 3600)
            publish()
        }
        publish()
    }
}
