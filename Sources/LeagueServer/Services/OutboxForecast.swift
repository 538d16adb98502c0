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
    public static func forecast(
        pending: [PendingDelivery], newKeys: Set<String>, adapters: [String: any PlatformAdapter], now: Date,
        pauses: [RobotPause] = [], recentSends: [RobotSend] = []
    ) -> Date? {
        let pausedUntil = Dictionary(pauses.map { ($0.robotID, $0.until) }, uniquingKeysWith: max)
        let sentAt = Dictionary(grouping: recentSends, by: \.robotID).mapValues { $0.map(\.at).sorted() }
        var robots: [String: DeliveryForecast.Robot] = [:]
        var order: [String] = []
        for entry in pending {
            let robot = entry.robotID
            if robots[robot] == nil {
                let limit = adapters[entry.platform]?.rateLimit ?? .unlimited
                robots[robot] = DeliveryForecast.Robot(
                    perMinute: limit.perMinute, perSecond: limit.perSecond,
                    pausedUntil: pausedUntil[robot], recentSends: sentAt[robot] ?? [], queue: [])
                order.append(robot)
            }
            robots[robot]!.queue.append(
                DeliveryForecast.Item(
                    priority: entry.priority, chat: entry.chat, bytes: entry.bytes,
                    notBefore: entry.nextAttemptAt, isNew: newKeys.contains(entry.key)
                ))
        }
        return DeliveryForecast.lastDelivery(order.compactMap { robots[$0] }, now: now)
    }
}
