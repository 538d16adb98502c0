import Foundation
import LeagueCore
import Logging
import NIOConcurrencyHelpers

/// Commits and processes inbound messages with group commit: every message waiting while a
/// transaction runs goes into the next one. Each message is processed in the transaction that
/// commits it (one writer transaction per batch, and a message never exists without its effects),
/// and each webhook is answered only after that transaction is durable.
///
/// A webhook is never kept waiting past `answerWithin` (platforms retry after 5 s): when the store
/// is stuck (locked, slow disk) the caller gets `StoreUnavailable` and answers 503. Its message may
/// still commit later; the platform's retry is then a duplicate, answered 200 and not processed twice.
///
/// The queue is bounded (`maxQueued` messages, `maxQueuedBytes` of text): over it a message is
/// refused at once with `StoreUnavailable` (503, the platform retries) and nothing of it is kept.
///
/// Read-only commands (/进度, /查询 …, see `Engine.isReadOnly`) are committed unprocessed in the
/// batch and processed right after it on a reader connection, so they never lengthen the writer's
/// transaction; their webhook is answered once the reply is written (or after `answerWithin`: the
/// message is durable either way, and the inbox service finishes it after a failure).
public final class Ingestor: Sendable {
    private struct Pending: Sendable {
        var record: InboundRecord
        var answer: Answer
        var bytes: Int
    }

    private struct State {
        var queue: [Pending] = []
        var queuedBytes = 0
        var flushing = false
        /// The batch being committed: when it started (the watchdog's deadline) and its callers.
        var current: (started: ContinuousClock.Instant, answers: [Answer])?
    }

    private let engine: Engine
    private let committed: [Doorbell]
    private let maxBatch: Int
    private let answerWithin: Double
    private let maxQueued: Int
    private let maxQueuedBytes: Int
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - committed: rung after each commit (the dashboard's live views wait on it; the outbox and timer
    ///     services hear of new rows from the store's `onCommit`).
    ///   - answerWithin: longest a caller waits for its commit, in seconds.
    ///   - maxQueued, maxQueuedBytes: most messages (and bytes of their text and ids) waiting for a commit.
    public init(
        engine: Engine, committed: [Doorbell], maxBatch: Int = 512, answerWithin: Double = 4,
        maxQueued: Int = 20_000, maxQueuedBytes: Int = 32 << 20
    ) {
        self.engine = engine
        self.committed = committed
        self.maxBatch = maxBatch
        self.answerWithin = answerWithin
        self.maxQueued = maxQueued
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// Messages waiting for a commit (not counting the batch being committed).
    public var queued: (count: Int, bytes: Int) { state.withLockedValue { ($0.queue.count, $0.queuedBytes) } }

    /// Commits one message and returns once it is durable (or a duplicate of a durable one).
    /// - Throws: `StoreUnavailable` when the queue is full, the store fails or does not commit within `answerWithin`.
    public func submit(_ message: ChatMessage) async throws -> IngestResult {
        let record = InboundRecord(message: message, receivedAt: engine.clock.now(), storedText: engine.storedText(for: message))
        let bytes = message.text.utf8.count + message.messageID.utf8.count + message.chat.utf8.count + message.sender.utf8.count + 64
        return try await withCheckedThrowingContinuation { continuation in
            let answer = Answer(continuation)
            let admitted = state.withLockedValue { state -> Bool? in
                guard state.queue.count < maxQueued, state.queuedBytes + bytes <= maxQueuedBytes else { return nil }
                state.queue.append(Pending(record: record, answer: answer, bytes: bytes))
                state.queuedBytes += bytes
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            switch admitted {
            case nil:
                answer.give(.failure(StoreUnavailable("ingest queue full (\(maxQueued) messages or \(maxQueuedBytes) bytes waiting for the store)")))
            case true?:
                Task { await self.flushLoop() }
            case false?:
                break
            }
        }
    }

    /// Commits batches until the queue is empty. One watchdog runs beside the loop (not one per
    /// batch: a timer per batch was a measurable share of a 收到's CPU under load, issue 16).
    private func flushLoop() async {
        let watchdog = Task { await self.watch() }
        defer { watchdog.cancel() }
        while true {
            let batch = state.withLockedValue { state -> [Pending] in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                state.queuedBytes -= batch.reduce(0) { $0 + $1.bytes }
                if batch.isEmpty {
                    state.flushing = false
                    state.current = nil
                } else {
                    state.current = (ContinuousClock.now, batch.map(\.answer))
                }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let engine = engine
                // Parsed before the transaction: which messages are read-only commands.
                let readOnly = Set(batch.indices.filter { engine.isReadOnly(batch[$0].record.message) })
                let readOnlyKeys = Set(readOnly.map { Self.key(batch[$0].record) })
                let results = try await engine.store.ingest(batch.map(\.record)) { record, tx in
                    guard !readOnlyKeys.contains(Self.key(record)) else { return }
                    try engine.process(record, tx: tx)
                }
                var later: [(Pending, InboundRecord)] = []
                for (index, (pending, result)) in zip(batch, results).enumerated() {
                    if readOnly.contains(index), case .stored(let id) = result {
                        var record = pending.record
                        record.id = id
                        later.append((pending, record))
                    } else {
                        pending.answer.give(.success(result))
                    }
                }
                for bell in committed { bell.ring() }
                if !later.isEmpty { processReadOnly(later) }
            } catch {
                for pending in batch { pending.answer.give(.failure(error)) }
            }
        }
    }

    /// When the batch being committed is older than `answerWithin` (the store is stuck), answers it
    /// and everything queued behind it with `StoreUnavailable`; they stay queued and may still
    /// commit. While the store stays stuck, callers that queued since are answered every `answerWithin`.
    private func watch() async {
        let limit = Duration.milliseconds(Int64(answerWithin * 1000))
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (stuck, sleep) = state.withLockedValue { state -> ([Answer], Duration) in
                guard let current = state.current else { return ([], limit) }
                let due = current.started + limit
                guard now >= due else { return ([], due - now) }
                return (current.answers + state.queue.map(\.answer), limit)
            }
            if !stuck.isEmpty {
                let error = StoreUnavailable("not committed within \(answerWithin) s")
                for answer in stuck { answer.give(.failure(error)) }
            }
            do { try await Task.sleep(for: sleep) } catch { return }
        }
    }
}

extension Ingestor {
    static func key(_ record: InboundRecord) -> String { record.message.platform + "\u{0}" + record.message.messageID }

    /// Processes committed read-only commands off the writer; each webhook is answered when its reply
    /// is written, or after `answerWithin` (it is committed already).
    private func processReadOnly(_ items: [(Pending, InboundRecord)]) {
        let engine = engine
        let committed = committed
        let answerWithin = answerWithin
        Task {
            let watchdog = Task {
                try await Task.sleep(for: .milliseconds(Int64(answerWithin * 1000)))
                for (pending, record) in items { pending.answer.give(.success(.stored(record.id))) }
            }
            await withTaskGroup(of: Void.self) { group in
                for (pending, record) in items {
                    group.addTask {
                        do {
                            try await engine.processReadOnly(record)
                        } catch {
                            engine.logger.error(
                                "read-only command failed; the inbox service retries it",
                                metadata: ["inbound": "\(record.id)", "error": "\(error)"])
                        }
                        pending.answer.give(.success(.stored(record.id)))
                    }
                }
            }
            watchdog.cancel()
            for bell in committed { bell.ring() }
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
