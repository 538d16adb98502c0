import Foundation

/// The time source of the bot. Production reads the system clock; tests set it by hand.
public protocol WallClock: Sendable {
    func now() -> Date
    /// Seconds on a monotonic clock (never steps back when the wall clock is set): rate windows
    /// and robot pauses are measured on it.
    func uptime() -> Double
}

extension WallClock {
    /// The system's monotonic clock.
    public func uptime() -> Double { ProcessInfo.processInfo.systemUptime }
}

/// The system clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock tests move by hand.
public final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var elapsed: Double = 1000

    public init(_ start: Date) { self.current = start }

    public func now() -> Date { lock.withLock { current } }

    /// Moves only with `advance(by:)`: `set(_:)` is a step of the wall clock, as NTP or an operator makes.
    public func uptime() -> Double { lock.withLock { elapsed } }

    public func advance(by seconds: Double) {
        lock.withLock {
            current = current.addingTimeInterval(seconds)
            elapsed += max(seconds, 0)
        }
    }

    public func set(_ date: Date) { lock.withLock { current = date } }
}

/// Formats times for chat in the bot's time zone.
public struct TimeFormat: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    private func components(_ date: Date) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    }

    /// `10:03`
    public func clock(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
    }

    /// `11-21 10:03`
    public func dayAndClock(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%02d-%02d %02d:%02d", c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// `2026-11`
    public func month(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
    }

    /// `2026-11-21`
    public func day(_ date: Date) -> String {
        let c = components(date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }
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
