import Foundation

/// When will the last of a batch of new notices leave its robot? A pure estimate from what waits in
/// each robot's queue and the robot's rate limits, used in the issuer's reply ("expected by 10:42").
///
/// Each robot is simulated the way the outbox sends it: urgent before routine, older before newer,
/// a sliding `RateWindow` per robot, a paused robot (it answered "rate limited") not before its
/// pause ends, and — when more is waiting than a minute's allowance — routine messages to the same
/// group merged into digests of at most `digestLimit` UTF-8 bytes. Robots send independently.
///
/// Sends already made in the current window (`recentSends`, kept in the store by the outbox) count
/// against the robot's limits; network time is ignored, so the estimate is a lower bound.
public enum DeliveryForecast {
    /// One message waiting for a robot.
    public struct Item: Sendable, Hashable {
        public var priority: Priority
        /// The group (chat) it goes to: routine messages to one group can share a digest.
        public var chat: String
        /// UTF-8 bytes of its text (for the digest size).
        public var bytes: Int
        /// Not before this time (a retry's or a postponement's next attempt).
        public var notBefore: Date
        /// Part of the batch whose last delivery is asked for.
        public var isNew: Bool

        public init(priority: Priority, chat: String, bytes: Int, notBefore: Date, isNew: Bool) {
            self.priority = priority
            self.chat = chat
            self.bytes = bytes
            self.notBefore = notBefore
            self.isNew = isNew
        }
    }

    /// One robot's queue, in store order (older first), and its limits.
    public struct Robot: Sendable, Hashable {
        public var perMinute: Int?
        public var perSecond: Int?
        /// The robot said "rate limited" and may not send before this time.
        public var pausedUntil: Date?
        /// Sends through this robot in the last minute, oldest first (they fill its window).
        public var recentSends: [Date]
        public var queue: [Item]

        public init(perMinute: Int?, perSecond: Int?, pausedUntil: Date? = nil, recentSends: [Date] = [], queue: [Item]) {
            self.perMinute = perMinute
            self.perSecond = perSecond
            self.pausedUntil = pausedUntil
            self.recentSends = recentSends
            self.queue = queue
        }
    }

    /// The expected send time of the last new item over all robots; nil when there is no new item.
    /// - Parameters:
    ///   - robots: every robot with something waiting (new items included).
    ///   - now: the current time.
    ///   - digestLimit: the outbox's digest size in UTF-8 bytes.
    public static func lastDelivery(_ robots: [Robot], now: Date, digestLimit: Int = 1800) -> Date? {
        var last: Date?
        for robot in robots {
            guard let robotLast = lastDelivery(robot, now: now, digestLimit: digestLimit) else { continue }
            last = max(last ?? robotLast, robotLast)
        }
        return last
    }

    /// The expected send time of the last new item of one robot.
    public static func lastDelivery(_ robot: Robot, now: Date, digestLimit: Int = 1800) -> Date? {
        guard robot.queue.contains(where: \.isNew) else { return nil }
        // Store order is (priority, age); `enumerated` keeps age stable within a priority.
        let ordered = robot.queue.enumerated().sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }.map(\.element)
        let sends = merge(ordered, when: robot.perMinute.map { ordered.count > $0 } ?? false, limit: digestLimit)
        var window = RateWindow(perMinute: robot.perMinute, perSecond: robot.perSecond)
        // Stored times come back through seconds since 1970 as a Double and can land a fraction of a
        // microsecond after `now`; only a send more than a millisecond ahead (a clock stepped back) is left out.
        for sent in robot.recentSends where sent.timeIntervalSince(now) <= 0.001 { window.record(at: min(sent, now)) }
        var time = max(now, robot.pausedUntil ?? now)
        var last: Date?
        for send in sends {
            time = max(time, send.notBefore)
            let slot = window.nextSlot(at: time)
            window.record(at: slot)
            time = slot
            if send.isNew { last = slot }
        }
        return last
    }

    /// Groups ordered items into sends: urgent alone, routine merged per chat up to `limit` bytes
    /// (the same rule as the outbox planner's digests).
    static func merge(_ items: [Item], when merging: Bool, limit: Int) -> [Item] {
        guard merging else { return items }
        var sends: [Item] = []
        var open: [String: Int] = [:]
        for item in items {
            guard item.priority == .routine else {
                sends.append(item)
                continue
            }
            if let index = open[item.chat], sends[index].bytes + item.bytes + 8 <= limit {
                sends[index].bytes += item.bytes + 8
                sends[index].isNew = sends[index].isNew || item.isNew
                sends[index].notBefore = max(sends[index].notBefore, item.notBefore)
            } else {
                open[item.chat] = sends.count
                sends.append(item)
            }
        }
        return sends
    }
}
