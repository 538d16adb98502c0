import Foundation
import LeagueCore
import NIOConcurrencyHelpers

/// Commits and processes inbound messages with group commit: every message waiting while a
/// transaction runs goes into the next one. Each message is processed in the transaction that
/// commits it (one writer transaction per batch, and a message never exists without its effects),
/// and each webhook is answered only after that transaction is durable.
public final class Ingestor: Sendable {
    private struct Pending {
        var record: InboundRecord
        var continuation: CheckedContinuation<IngestResult, any Error>
    }

    private let engine: Engine
    private let committed: [Doorbell]
    private let maxBatch: Int
    private let state = NIOLockedValueBox<(queue: [Pending], flushing: Bool)>(([], false))

    /// - Parameter committed: rung after each commit (the outbox and timer services wait on them).
    public init(engine: Engine, committed: [Doorbell], maxBatch: Int = 512) {
        self.engine = engine
        self.committed = committed
        self.maxBatch = maxBatch
    }

    /// Commits one message and returns once it is durable (or a duplicate of a durable one).
    public func submit(_ message: ChatMessage) async throws -> IngestResult {
        let record = InboundRecord(message: message, receivedAt: engine.clock.now())
        return try await withCheckedThrowingContinuation { continuation in
            let startFlush = state.withLockedValue { state -> Bool in
                state.queue.append(Pending(record: record, continuation: continuation))
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if startFlush {
                Task { await self.flushLoop() }
            }
        }
    }

    private func flushLoop() async {
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let engine = engine
                let results = try await engine.store.ingest(batch.map(\.record)) { record, tx in
                    try engine.process(record, tx: tx)
                }
                for (pending, result) in zip(batch, results) { pending.continuation.resume(returning: result) }
                for bell in committed { bell.ring() }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
