import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging
import ServiceLifecycle

/// Checks the bot's promise: no escalation step, reminder or outbound message overdue, no message
/// waiting longer than `health.max_pending_age` (or the time the rate limits need for the current
/// backlog, if longer), no dead letter in the last 24 h, no robot paused for more than 10 minutes.
/// `/healthz` answers 503 `{"status":"degraded","reasons":[…],…}` while any holds, 200 otherwise;
/// each cause is logged at critical level once when it starts (the chat may be what is down), and
/// the root unit's admins are told once per episode of overdue work.
public actor Auditor {
    /// One reason /healthz is degraded: a stable code and a sentence for people.
    public struct Reason: Sendable, Hashable {
        public var code: String
        public var detail: String
    }

    public struct Report: Sendable {
        public var health: StoreHealth?
        public var outbox: OutboxHealth?
        public var storeError: String?
        public var reasons: [Reason] = []
        /// The pending-age limit in force (the configured one, or what the backlog needs).
        public var pendingAgeLimit: Double = 0
        public var degraded: Bool { storeError != nil || health == nil || !reasons.isEmpty }

        public var json: String {
            let h = health ?? StoreHealth()
            let o = outbox ?? OutboxHealth()
            // LeagueBench waits for `"unprocessed_inbound":0,` (with the comma): keep a member after it.
            var members: [(String, OutJSON)] = [
                ("status", .string(degraded ? "degraded" : "ok")),
                ("reasons", .array(reasons.map { .string("\($0.code): \($0.detail)") })),
                ("overdue_timers", .int(Int64(h.overdueTimers))),
                ("overdue_outbox", .int(Int64(h.overdueOutbox))),
                ("oldest_overdue_seconds", .int(Int64(h.oldestOverdueSeconds))),
                ("unprocessed_inbound", .int(Int64(h.unprocessedInbound))),
                ("pending_outbox", .int(Int64(h.pendingOutbox))),
                ("dead_outbox", .int(Int64(h.deadOutbox))),
                ("oldest_pending_seconds", .int(Int64(o.oldestPendingSeconds ?? 0))),
                ("max_pending_age_seconds", .int(Int64(pendingAgeLimit))),
                ("dead_last_24h", .int(Int64(o.deadLastDay))),
                ("undecodable_outbox", .int(Int64(o.undecodable))),
                ("paused_robots", .int(Int64(o.pauses.count))),
                ("retrying_timers", .int(Int64(h.retryingTimers))),
                ("dead_timers", .int(Int64(h.deadTimers))),
            ]
            if let storeError { members.append(("error", .string(storeError))) }
            return OutJSON.object(members).text
        }
    }

    /// A robot paused (rate limited or failing) for longer than this degrades /healthz.
    public static let maxRobotPause: Double = 600

    let engine: Engine
    let tolerance: Double
    private var episodeStart: Date?
    private var logged: Set<String> = []

    public init(engine: Engine, tolerance: Double) {
        self.engine = engine
        self.tolerance = tolerance
    }

    public func report() async -> Report {
        let now = engine.clock.now()
        let tolerance = tolerance
        do {
            let (health, outbox) = try await engine.store.read { reader in
                (try reader.health(at: now, tolerance: tolerance), try reader.outboxHealth(at: now))
            }
            let limits = engine.adapters.mapValues(\.rateLimit)
            let limit = Self.pendingAgeLimit(outbox.backlog, configured: engine.config.health.maxPendingAgeSeconds, limits: limits)
            return Report(
                health: health, outbox: outbox, storeError: nil,
                reasons: Self.reasons(health: health, outbox: outbox, pendingAgeLimit: limit, now: now), pendingAgeLimit: limit)
        } catch {
            return Report(health: nil, outbox: nil, storeError: "\(error)", reasons: [Reason(code: "store", detail: "\(error)")])
        }
    }

    /// The pending-age limit: the configured one, but never less than the time the slowest robot
    /// needs to send its current backlog within its rate limits. Pure.
    public static func pendingAgeLimit(_ backlog: [OutboxHealth.Backlog], configured: Double, limits: [String: RateLimit]) -> Double {
        var limit = configured
        for robot in backlog {
            guard let rate = limits[robot.platform] else { continue }
            var need = 0.0
            if let perMinute = rate.perMinute, perMinute > 0 { need = max(need, (Double(robot.pending) / Double(perMinute)).rounded(.up) * 60) }
            if let perSecond = rate.perSecond, perSecond > 0 { need = max(need, (Double(robot.pending) / Double(perSecond)).rounded(.up)) }
            limit = max(limit, need)
        }
        return limit
    }

    /// Why the bot is degraded (empty: healthy). Pure.
    public static func reasons(health: StoreHealth, outbox: OutboxHealth, pendingAgeLimit: Double, now: Date) -> [Reason] {
        var reasons: [Reason] = []
        if health.overdueTimers > 0 {
            reasons.append(Reason(code: "overdue_timers", detail: "\(health.overdueTimers) escalation step(s) or reminder(s) overdue by up to \(Int(health.oldestOverdueSeconds)) s"))
        }
        if health.overdueOutbox > 0 {
            reasons.append(Reason(code: "overdue_outbox", detail: "\(health.overdueOutbox) outbound message(s) due but not sent"))
        }
        if let age = outbox.oldestPendingSeconds, age > pendingAgeLimit {
            reasons.append(Reason(code: "pending_age", detail: "the oldest pending outbound message is \(Int(age)) s old (limit \(Int(pendingAgeLimit)) s)"))
        }
        if outbox.deadLastDay > 0 {
            reasons.append(Reason(code: "dead_letters", detail: "\(outbox.deadLastDay) outbound message(s) put aside as dead in the last 24 h"))
        }
        let waiting = Set(outbox.backlog.filter { $0.pending > 0 }.map(\.robotID))
        let long = outbox.pauses.filter { pause in
            now.timeIntervalSince(pause.since) > maxRobotPause && (pause.until > now || waiting.contains(pause.robotID))
        }
        if let first = long.min(by: { $0.since < $1.since }) {
            reasons.append(
                Reason(
                    code: "robot_paused",
                    detail:
                        "\(long.count) robot(s) paused for more than \(Int(maxRobotPause / 60)) min; the longest, \(first.robotID), for \(Int(now.timeIntervalSince(first.since))) s (\(first.reason))")
            )
        }
        return reasons
    }

    /// One check: logs each cause of degradation once when it starts, and tells the root's admins
    /// when an episode of overdue work starts.
    /// - Returns: the report.
    @discardableResult
    public func check() async -> Report {
        let report = await report()
        let now = engine.clock.now()
        let codes = Set(report.reasons.map(\.code))
        for reason in report.reasons where !logged.contains(reason.code) {
            engine.logger.critical("health degraded", metadata: ["cause": "\(reason.code)", "detail": "\(reason.detail)"])
        }
        for code in logged.subtracting(codes) {
            engine.logger.notice("health recovered", metadata: ["cause": "\(code)"])
        }
        logged = codes
        let overdue = codes.contains("overdue_timers") || codes.contains("overdue_outbox")
        guard overdue, let health = report.health else {
            if !overdue { episodeStart = nil }
            return report
        }
        guard episodeStart == nil else { return report }
        episodeStart = now
        let config = engine.config
        guard let root = engine.org.root, let group = root.group else { return report }
        let text = config.language.pick(
            "⚠️ 自检发现积压：\(health.overdueTimers) 个提醒/升级步骤、\(health.overdueOutbox) 条消息已超时 \(Int(health.oldestOverdueSeconds)) 秒未处理。请检查机器人运行状态。",
            "⚠️ Self-check: \(health.overdueTimers) reminder/escalation step(s) and \(health.overdueOutbox) message(s) are overdue by up to \(Int(health.oldestOverdueSeconds)) s. Please check the bot."
        )
        let message = OutboundMessage(
            key: "audit:\(Int(now.timeIntervalSince1970))", unitID: root.id, group: group, text: text,
            mentions: TaskPolicy.mentions(of: root.members.filter { $0.has(.admin) }, platform: group.platform),
            priority: .urgent)
        _ = try? await engine.store.write { tx in try tx.enqueue(message, at: now) }
        return report
    }
}

/// Runs the auditor periodically.
public struct AuditorService: NamedService {
    let auditor: Auditor
    let interval: Double
    let outbound: Doorbell

    public func run() async throws {
        let bell = Doorbell()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await bell.wait(seconds: interval)
            guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
            if await auditor.check().degraded { outbound.ring() }
        }
    }
}
