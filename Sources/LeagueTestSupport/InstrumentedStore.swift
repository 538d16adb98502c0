import Foundation
import LeagueCore
import LeagueStore
import NIOConcurrencyHelpers

/// The SQLite store with handles for tests: ingests fail while `failing` is set (a push must then not
/// be acknowledged), and snapshot (reader) transactions are counted.
public final class InstrumentedStore: Store, LeaseStore, @unchecked Sendable {
    public let base: SQLiteStore
    public let failing = NIOLockedValueBox(false)
    /// Ingests refused while `failing` was set.
    public let refusals = NIOLockedValueBox(0)
    public let snapshots = NIOLockedValueBox(0)

    public init(_ base: SQLiteStore) { self.base = base }

    public func ingest(_ records: [InboundRecord], process: @Sendable (InboundRecord, any StoreTransaction) throws -> Void) async throws -> [IngestResult] {
        if failing.withLockedValue({ $0 }) {
            refusals.withLockedValue { $0 += 1 }
            throw StoreUnavailable("disk I/O error (test)")
        }
        return try await base.ingest(records, process: process)
    }
    public func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T { try await base.write(body) }
    public func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T { try await base.read(body) }
    public func snapshot<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        snapshots.withLockedValue { $0 += 1 }
        return try await base.snapshot(body)
    }
    public func maintain(_ retention: RetentionPolicy, now: Date) async throws -> MaintenanceReport { try await base.maintain(retention, now: now) }
    public func onCommit(outbox: @escaping @Sendable () -> Void, timers: @escaping @Sendable () -> Void) { base.onCommit(outbox: outbox, timers: timers) }
    public func acquireLease(_ name: String, holder: String, now: Date, ttl: Double) async throws -> ConnectionLease? {
        try await base.acquireLease(name, holder: holder, now: now, ttl: ttl)
    }
    public func releaseLease(_ name: String, holder: String, token: Int64) async throws { try await base.releaseLease(name, holder: holder, token: token) }
}
