import Foundation
import LeagueCore
import NIOConcurrencyHelpers

/// Commits and processes inbound messages with group commit: every message waiting while a
/// transaction runs goes into the next one. Each message is processed in the transaction that
/// commits it (one writer transaction per batch, and a message never exists without its effects),
/// and each webhook is answered only after that transaction is durable.
///
/// A webhook is never kept waiting past `answerWithin` (platforms retry after 5 s): when the store
/// is stuck (locked, slow disk) the caller gets `StoreUnavailable` and answers 503. Its message may
/// still commit later; the platform's retry is then a duplicate, answered 200 and not processed twice.
public final class Ingestor: Sendable {
    private struct Pending {
        var record: InboundRecord
        var answer: Answer
    }

    private let engine: Engine
    private let committed: [Doorbell]
    private let maxBatch: Int
    private let answerWithin: Double
    private let state = NIOLockedValueBox<(queue: [Pending], flushing: Bool)>(([], false))

    /// - Parameters:
    ///   - committed: rung after each commit (the outbox and timer services wait on them).
    ///   - answerWithin: longest a caller waits for its commit, in seconds.
    public init(engine: Engine, committed: [Doorbell], maxBatch: Int = 512, answerWithin: Double = 4) {
        self.engine = engine
        self.committed = committed
        self.maxBatch = maxBatch
        self.answerWithin = answerWithin
    }

    /// Commits one message and returns once it is durable (or a duplicate of a durable one).
    /// - Throws: `StoreUnavailable` when the store fails or does not commit within `answerWithin`.
    public func submit(_ message: ChatMessage) async throws -> IngestResult {
        let record = InboundRecord(message: message, receivedAt: engine.clock.now(), storedText: engine.storedText(for: message))
        return try await withCheckedThrowingContinuation { continuation in
            let startFlush = state.withLockedValue { state -> Bool in
                state.queue.append(Pending(record: record, answer: Answer(continuation)))
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
            let watchdog = Task { [answerWithin] in
                try await Task.sleep(for: .milliseconds(Int64(answerWithin * 1000)))
                // Stuck: answer this batch and everything queued behind it now; they stay queued.
                let stuck = StoreUnavailable("not committed within \(answerWithin) s")
                let queued = self.state.withLockedValue { $0.queue.map(\.answer) }
                for answer in batch.map(\.answer) + queued { answer.give(.failure(stuck)) }
            }
            do {
                let engine = engine
                let results = try await engine.store.ingest(batch.map(\.record)) { record, tx in
                    try engine.process(record, tx: tx)
                }
                for (pending, result) in zip(batch, results) { pending.answer.give(.success(result)) }
                for bell in committed { bell.ring() }
            } catch {
                for pending in batch { pending.answer.give(.failure(error)) }
            }
            watchdog.cancel()
        }
    }
}

/// One caller's answer, given once: by its commit, or earlier by the watchdog when the store is stuck.
private final class Answer: Sendable {
    private let continuation: NIOLockedValueBox<CheckedContinuation<IngestResult, any Error>?>

    init(_ continuation: CheckedContinuation<IngestResult, any Error>) {
        self.continuation = NIOLockedValueBox(continuation)
    }

    func give(_ result: Result<IngestResult, any Error>) {
        let waiting = continuation.withLockedValue { value in
            defer { value = nil }
            return value
        }
        waiting?.resume(with: result)
    }
}
