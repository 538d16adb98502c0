import Foundation
import LeagueConfig
import LeagueCore
import Logging
import ServiceLifecycle

/// Keeps the store's files bounded: every `interval` it applies the `retention:` settings (old
/// inbound texts blanked, sent outbox rows and fired timers deleted) and checkpoints the
/// write-ahead log (cut back to `journal_size_limit`). Each step runs in short transactions.
public struct MaintenanceService: NamedService {
    let engine: Engine
    let interval: Double
    let doorbell = Doorbell()

    public func run() async throws {
        let retention = RetentionPolicy(
            inboundSeconds: engine.config.retention.inboundSeconds,
            outboxSeconds: engine.config.retention.outboxSeconds)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // `interval` on the engine's clock (retention ages are measured on it).
            await doorbell.wait(seconds: interval, orUntil: engine.clock.now().addingTimeInterval(interval), on: engine.clock)
            guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
            do {
                let report = try await engine.store.maintain(retention, now: engine.clock.now())
                engine.logger.info(
                    "store maintenance",
                    metadata: [
                        "blanked_inbound": "\(report.blankedInbound)", "deleted_outbox": "\(report.deletedOutbox)",
                        "deleted_timers": "\(report.deletedTimers)", "wal_frames_left": "\(report.walFramesLeft)",
                    ])
            } catch {
                engine.logger.error("store maintenance failed; trying again next round", metadata: ["error": "\(error)"])
            }
        }
    }
}
