import Foundation

/// The time source of the bot. Production reads the system clock; tests set it by hand.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Seconds on a monotonic clock (never steps back when the wall clock is set): rate windows
    /// and robot pauses are measured on it.
    func uptime() -> Double
    /// Returns once `now()` has reached `deadline` (at once when it has), or when the task is
    /// cancelled: the services' timed waits (the next due timer, the next outbox attempt) sleep on it,
    /// so a clock a test moves wakes them. Production sleeps for the time left (`Task.sleep`).
    func sleep(until deadline: Date) async
}

extension WallClock {
    /// The system's monotonic clock.
    public func uptime() -> Double { ProcessInfo.processInfo.systemUptime }

    /// Sleeps in real time for the time left until `deadline`; returns early on cancellation.
    public func sleep(until deadline: Date) async {
        let left = deadline.timeIntervalSince(now())
        guard left > 0 else { return }
        try? await Task.sleep(for: .seconds(left))
    }
}

/// The system clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock tests move by hand. Its `sleep(until:)` returns when `advance(by:)` or `set(_:)` moves
/// it to or past the deadline (or on cancellation), never with real time.
public final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var elapsed: Double = 1000
    private var sleepers: [Int: (deadline: Date, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var nextSleeper = 0
    /// Sleepers cancelled before they registered.
    private var cancelled: Set<Int> = []

    public init(_ start: Date) { self.current = start }

    public func now() -> Date { lock.withLock { current } }

    /// Moves only with `advance(by:)`: `set(_:)` is a step of the wall clock, as NTP or an operator makes.
    public func uptime() -> Double { lock.withLock { elapsed } }

    /// Moves the clock forward and wakes the sleepers whose deadline it reached.
    public func advance(by seconds: Double) {
        let due = lock.withLock {
            current = current.addingTimeInterval(seconds)
            elapsed += max(seconds, 0)
            return takeDue()
        }
        for sleeper in due { sleeper.resume() }
    }

    /// Steps the wall clock (either way) and wakes the sleepers whose deadline it reached.
    public func set(_ date: Date) {
        let due = lock.withLock {
            current = date
            return takeDue()
        }
        for sleeper in due { sleeper.resume() }
    }

    /// How many sleeps are waiting for the clock to move.
    public var sleeping: Int { lock.withLock { sleepers.count } }

    public func sleep(until deadline: Date) async {
        // The deadline is checked and the sleeper registered under the lock `advance` and `set` take:
        // a move that lands in between is either seen here or wakes the sleeper.
        let id: Int? = lock.withLock {
            guard !reached(deadline) else { return nil }
            nextSleeper += 1
            return nextSleeper
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = lock.withLock { () -> Bool in
                    if reached(deadline) || cancelled.remove(id) != nil { return true }
                    sleepers[id] = (deadline, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let sleeper = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                if let sleeper = sleepers.removeValue(forKey: id) { return sleeper.continuation }
                cancelled.insert(id)
                return nil
            }
            sleeper?.resume()
        }
        // A cancellation after the wake-up leaves a mark: forget it.
        lock.withLock { _ = cancelled.remove(id) }
    }

    /// Whether the clock is at or past `deadline`, compared in seconds since 1970 as the store compares
    /// (a due time read back from the store can be a hair off the `Date` the clock was moved to);
    /// call with the lock held.
    private func reached(_ deadline: Date) -> Bool {
        current.timeIntervalSince1970 >= deadline.timeIntervalSince1970
    }

    /// Removes and returns the sleepers whose deadline has come; call with the lock held.
    private func takeDue() -> [CheckedContinuation<Void, Never>] {
        let due = sleepers.filter { reached($0.value.deadline) }
        for id in due.keys { sleepers.removeValue(forKey: id) }
        return due.values.map(\.continuation)
    }
}

/// Formats times for chat in the bot's time zone.
public struct TimeFormat: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// The date's fields, in the bot's time zone, written with `format` (`%02d` each).
    private func text(_ date: Date, _ format: String, _ fields: [Calendar.Component]) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents(Set(fields), from: date)
        return String(format: format, arguments: fields.map { c.value(for: $0) ?? 0 })
    }

    /// `10:03`
    public func clock(_ date: Date) -> String { text(date, "%02d:%02d", [.hour, .minute]) }

    /// `11-21 10:03`
    public func dayAndClock(_ date: Date) -> String { text(date, "%02d-%02d %02d:%02d", [.month, .day, .hour, .minute]) }

    /// `2026-11`
    public func month(_ date: Date) -> String { text(date, "%04d-%02d", [.year, .month]) }

    /// `2026-11-21`
    public func day(_ date: Date) -> String { text(date, "%04d-%02d-%02d", [.year, .month, .day]) }
}

/// The system clock moved forward by hand (`:wait 3m` in `leagueops chat` to see an escalation).
public final class OffsetClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Double = 0

    public init() {}

    public func now() -> Date { lock.withLock { Date().addingTimeInterval(offset) } }

    public func uptime() -> Double { lock.withLock { ProcessInfo.processInfo.systemUptime + offset } }

    public func advance(by seconds: Double) { lock.withLock { offset += seconds } }
}
