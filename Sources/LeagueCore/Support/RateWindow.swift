import Foundation

/// A robot's send history against its limits (per minute, per second), as a sliding window.
///
/// Pure value: `nextSlot(at:)` says when the next message may go, `record(at:)` notes a send.
/// A window never lets more than `perMinute` messages through in any 60 s (DingTalk blocks a robot
/// for 10 minutes past 20 a minute, so the limit must hold exactly, not on average).
public struct RateWindow: Sendable, Hashable {
    public let perMinute: Int?
    public let perSecond: Int?
    private var sent: [Date] = []
    private var pausedUntil: Date?

    public init(perMinute: Int?, perSecond: Int?) {
        self.perMinute = perMinute
        self.perSecond = perSecond
    }

    /// The earliest time the next message may be sent.
    public func nextSlot(at now: Date) -> Date {
        var slot = now
        if let pausedUntil { slot = max(slot, pausedUntil) }
        if let perMinute, sent.count >= perMinute {
            let oldestInWindow = sent[sent.count - perMinute]
            slot = max(slot, oldestInWindow.addingTimeInterval(60.001))
        }
        if let perSecond, sent.count >= perSecond {
            let oldestInWindow = sent[sent.count - perSecond]
            slot = max(slot, oldestInWindow.addingTimeInterval(1.001))
        }
        return slot
    }

    /// Notes a send at `now` and forgets sends older than a minute.
    public mutating func record(at now: Date) {
        sent.append(now)
        let horizon = now.addingTimeInterval(-61)
        if let firstKept = sent.firstIndex(where: { $0 >= horizon }), firstKept > 0 {
            sent.removeFirst(firstKept)
        }
    }

    /// Blocks the window until `until` (the platform said slow down).
    public mutating func pause(until: Date) {
        pausedUntil = max(pausedUntil ?? until, until)
    }
}
