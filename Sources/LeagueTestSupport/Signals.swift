import Foundation
import GRDB
import LeagueServer
import LeagueStore
import NIOConcurrencyHelpers

/// A change signal: fired by what a test waits on (a store commit, a request reaching a fake
/// platform, a frame on a fake gateway). A waiter reads `generation` before it looks at the state and
/// passes it to `wait(after:seconds:)`, so a change that lands while it looks is never missed. It is the
/// server's `Doorbell`, plus relays.
public final class Signal: Sendable {
    private let bell = Doorbell()
    private let relays = NIOLockedValueBox<[Signal]>([])

    public init() {}

    public var generation: UInt64 { bell.generation }

    /// Every fire of this signal also fires `other`.
    public func relay(to other: Signal) { relays.withLockedValue { $0.append(other) } }

    /// Advances the generation and wakes every waiter.
    public func fire() {
        bell.ring()
        for relay in relays.withLockedValue({ $0 }) { relay.fire() }
    }

    /// Returns when the generation moves past `seen`, or after `seconds`.
    public func wait(after seen: UInt64, seconds: Double) async {
        _ = await bell.wait(after: seen, seconds: seconds)
    }
}

/// Why a bounded wait gave up: what it waited for and what it saw (a test that throws it fails with this text).
public struct WaitTimedOut: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The one settle/wait helper: waits until `condition` holds, waking on `signal` (a store commit, a
/// request reaching a fake platform …) and looking again at least every `fallback` seconds for state no
/// signal covers (a connection's state, a fake gateway's frames). A moved manual clock needs no polling:
/// it wakes the services sleeping on it. Gives up after `timeout` seconds with `WaitTimedOut`, whose
/// text names `what` and, when given, `seen()` (what was there instead).
public func waitFor(
    _ what: String, timeout: Double = 15, signal: Signal? = nil, fallback: Double = 0.02,
    seen: () -> String = { "" }, _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let generation = signal?.generation ?? 0
        if try await condition() { return }
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { break }
        if let signal {
            await signal.wait(after: generation, seconds: min(left, fallback))
        } else {
            try await Task.sleep(for: .milliseconds(Int64(min(left, fallback) * 1000)))
        }
        try Task.checkCancellation()
    }
    let detail = seen()
    throw WaitTimedOut("timed out after \(timeout) s waiting for: \(what)" + (detail.isEmpty ? "" : "\nseen instead:\n\(detail)"))
}

extension SQLiteStore {
    /// Fires `signal` after every commit of this store's writer (GRDB transaction observer).
    public func fireOnCommit(_ signal: Signal) {
        writer.add(transactionObserver: CommitObserver(signal: signal), extent: .databaseLifetime)
    }

    /// Rows in one table: what a refused or half-handled request must not have added.
    public func rowCount(_ table: String) async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}

private final class CommitObserver: TransactionObserver, @unchecked Sendable {
    let signal: Signal
    init(signal: Signal) { self.signal = signal }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { signal.fire() }
    func databaseDidRollback(_ db: Database) {}
}
