import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms

extension OutboxPlanner {
    /// Replies mention the expected delivery time only when it is further away than this.
    public static let forecastThreshold: Double = 10

    /// When the last of the messages with `newKeys` is expected to leave its robot, from everything
    /// pending in the outbox (new messages included) and each platform's rate limits.
    /// - Parameters:
    ///   - pending: the pending outbox entries of the robots concerned, in store order.
    ///   - newKeys: the keys of the messages just enqueued.
    ///   - adapters: the configured platforms by name (their `rateLimit`).
    ///   - now: the current time.
    ///   - pauses: the robots' pauses (rate limited, breaker open), from the store.
    ///   - recentSends: sends through the robots in the last minute, from the store.
    public static func forecast(pending: [PendingDelivery], newKeys: Set<String>, adapters: [String: any PlatformAdapter], now: Date,
                                pauses: [RobotPause] = [], recentSends: [RobotSend] = []) -> Date? {
        let pausedUntil = Dictionary(pauses.map { ($0.robotID, $0.until) }, uniquingKeysWith: max)
        let sentAt = Dictionary(grouping: recentSends, by: \.robotID).mapValues { $0.map(\.at).sorted() }
        var robots: [String: DeliveryForecast.Robot] = [:]
        var order: [String] = []
        for entry in pending {
            let robot = entry.robotID
            if robots[robot] == nil {
                let limit = adapters[entry.platform]?.rateLimit ?? .unlimited
                robots[robot] = DeliveryForecast.Robot(perMinute: limit.perMinute, perSecond: limit.perSecond,
                                                       pausedUntil: pausedUntil[robot], recentSends: sentAt[robot] ?? [], queue: [])
                order.append(robot)
            }
            robots[robot]!.queue.append(DeliveryForecast.Item(
                priority: entry.priority, chat: entry.chat, bytes: entry.bytes,
                notBefore: entry.nextAttemptAt, isNew: newKeys.contains(entry.key)
            ))
        }
        return DeliveryForecast.lastDelivery(order.compactMap { robots[$0] }, now: now)
    }
}

extension TaskFeature {
    /// The line for the issuer's reply saying when the last notice should be delivered, or nil when
    /// that is within `OutboxPlanner.forecastThreshold` seconds. Reads the pending outbox in the
    /// command's transaction, so the notices just enqueued are counted.
    static func deliveryNote(for notices: [OutboundMessage], _ c: CommandContext) throws -> String? {
        guard !notices.isEmpty else { return nil }
        // Only the robots these notices go through matter: each robot drains its own queue.
        let robots = Set(notices.map(\.group.robotID))
        let pending = try c.tx.pendingDeliveries(robots: robots)
        let pauses = try c.tx.robotPauses(robots: robots)
        let sent = try c.tx.robotSends(robots: robots, since: c.now.addingTimeInterval(-61))
        let keys = Set(notices.map(\.key))
        guard let last = OutboxPlanner.forecast(pending: pending, newKeys: keys, adapters: c.engine.adapters, now: c.now,
                                                pauses: pauses, recentSends: sent) else { return nil }
        let wait = last.timeIntervalSince(c.now)
        guard wait > OutboxPlanner.forecastThreshold else { return nil }
        let clock = TimeFormat(timeZone: c.config.timeZone).clock(last.addingTimeInterval(59))  // "by" the minute after
        return c.say(
            "\n⏳ 群机器人有发送频率限制，通知排队发送：预计最后一条约\(DurationText.human(wait, language: .zh))后（\(clock)前）送达，不会丢失。",
            "\n⏳ The group robots are rate limited, so the notices are queued: the last one should be delivered in about \(DurationText.human(wait, language: .en)) (by \(clock)); none is dropped."
        )
    }
}
