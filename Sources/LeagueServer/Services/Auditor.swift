import Foundation
import LeagueConfig
import LeagueCore
import Logging
import ServiceLifecycle

/// Checks that no escalation step, reminder or outbound message is overdue beyond a tolerance.
/// `/healthz` reports degraded with the counts when one is, and the root unit's admins are told
/// once per episode: escalations that silently stop are the worst failure of an on-call bot.
public actor Auditor {
    public struct Report: Sendable {
        public var health: StoreHealth?
        public var storeError: String?
        public var degraded: Bool { storeError != nil || (health.map { $0.overdueTimers > 0 || $0.overdueOutbox > 0 } ?? true) }

        public var json: String {
            let h = health ?? StoreHealth()
            let status = degraded ? "degraded" : "ok"
            let error = storeError.map { ",\"error\":\"\($0.replacingOccurrences(of: "\"", with: "'"))\"" } ?? ""
            return "{\"status\":\"\(status)\",\"overdue_timers\":\(h.overdueTimers),\"overdue_outbox\":\(h.overdueOutbox),"
                + "\"oldest_overdue_seconds\":\(Int(h.oldestOverdueSeconds)),\"unprocessed_inbound\":\(h.unprocessedInbound),"
                + "\"pending_outbox\":\(h.pendingOutbox),\"dead_outbox\":\(h.deadOutbox),"
                + "\"retrying_timers\":\(h.retryingTimers),\"dead_timers\":\(h.deadTimers)\(error)}"
        }
    }

    let engine: Engine
    let tolerance: Double
    private var episodeStart: Date?

    public init(engine: Engine, tolerance: Double) {
        self.engine = engine
        self.tolerance = tolerance
    }

    public func report() async -> Report {
        let now = engine.clock.now()
        let tolerance = tolerance
        do {
            let health = try await engine.store.read { try $0.health(at: now, tolerance: tolerance) }
            return Report(health: health, storeError: nil)
        } catch {
            return Report(health: nil, storeError: "\(error)")
        }
    }

    /// One check: tells the root's admins when an episode of overdue work starts.
    /// - Returns: the report.
    @discardableResult
    public func check() async -> Report {
        let report = await report()
        let now = engine.clock.now()
        guard report.degraded, let health = report.health else {
            if !report.degraded { episodeStart = nil }
            return report
        }
        guard episodeStart == nil else { return report }
        episodeStart = now
        engine.logger.critical("overdue work detected", metadata: ["timers": "\(health.overdueTimers)", "outbox": "\(health.overdueOutbox)"])
        let config = engine.config
        guard let root = config.org.root, let group = root.group else { return report }
        let text = config.language.pick(
            "⚠️ 自检发现积压：\(health.overdueTimers) 个提醒/升级步骤、\(health.overdueOutbox) 条消息已超时 \(Int(health.oldestOverdueSeconds)) 秒未处理。请检查机器人运行状态。",
            "⚠️ Self-check: \(health.overdueTimers) reminder/escalation step(s) and \(health.overdueOutbox) message(s) are overdue by up to \(Int(health.oldestOverdueSeconds)) s. Please check the bot."
        )
        let message = OutboundMessage(key: "audit:\(Int(now.timeIntervalSince1970))", unitID: root.id, group: group, text: text,
                                      mentions: TaskPolicy.mentions(of: root.members.filter { $0.has(.admin) }, platform: group.platform),
                                      priority: .urgent)
        _ = try? await engine.store.write { tx in try tx.enqueue(message, at: now) }
        return report
    }
}

/// Runs the auditor periodically.
public struct AuditorService: Service {
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
