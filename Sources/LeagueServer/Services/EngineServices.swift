import Foundation
import LeagueCore
import Logging
import ServiceLifecycle

/// Processes inbound messages that were committed unprocessed, in order, in batches. Writing
/// messages are processed in the transaction that commits them; read-only commands are committed
/// first and answered right after from a reader, so this is their recovery path when the process
/// stopped in between (found at start-up), and it also finishes what an older version left.
public struct InboxService: NamedService {
    let engine: Engine
    let inbound: Doorbell
    let outbound: Doorbell
    let timers: Doorbell
    let batch: Int

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let records = try await engine.store.read { try $0.unprocessedInbound(limit: batch) }
                if records.isEmpty {
                    await inbound.wait(seconds: 1)
                    continue
                }
                try await engine.process(records)
                outbound.ring()
                timers.ring()
            } catch {
                engine.logger.error("inbox processing failed; retrying", metadata: ["error": "\(error)"])
                await inbound.wait(seconds: 1)
            }
        }
    }
}

/// Fires due timers (escalation steps, reminders): the next due time is read from the store, so a
/// step that came due while the bot was down fires once at start-up and never twice.
public struct TimerService: NamedService {
    let engine: Engine
    let doorbell: Doorbell
    let outbound: Doorbell
    /// Longest sleep (real time) between checks, so a step of the system clock (NTP) is noticed.
    let maxSleep: Double
    /// Also rung after timers fired (the dashboard's live views).
    var fired: [Doorbell] = []

    public func run() async throws {
        // The features' start-up hooks (the deliberation-day reminders of this and next month, …).
        await engine.startFeatures()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // A read first: the bell rings after every commit, and most commits bring no due timer,
                // so the writer is asked for a transaction only when something is due.
                let next = try await engine.store.read { try $0.nextTimerDue() }
                // Compared as the store compares (seconds since 1970): as `Date`s, a timer due at the very
                // instant a manual clock was moved to can read as a hair later than now and never fire.
                if let next, next.timeIntervalSince1970 <= engine.clock.now().timeIntervalSince1970 {
                    if try await engine.fireDueTimers() > 0 {
                        outbound.ring()
                        for bell in fired { bell.ring() }
                    }
                    continue
                }
                // Until the next timer is due on the engine's clock (a test moving it wakes this at once).
                await doorbell.wait(seconds: maxSleep, orUntil: next, on: engine.clock)
            } catch {
                engine.logger.error("timer check failed; retrying", metadata: ["error": "\(error)"])
                await doorbell.wait(seconds: 1)
            }
        }
    }
}
