import Foundation
import LeagueConfig
import LeagueCore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The month figures behind the dashboard's overview, assessment and minutes pages, kept between
/// page views (issue 14: pages for the real district's size in under 300 ms).
///
/// A month of 30,000 tasks is about 600,000 events; reading and counting them on every view takes
/// seconds. Instead each month has one `AssessmentTally` over the whole tree (unit figures do not
/// depend on the page's scope, so every link shares it) and the position in the event log it was
/// read up to; a view reads, inside its own read transaction, only the events appended since and adds
/// them. The first view of a month after start-up reads the whole month once.
///
/// Nothing here is a second source of truth: the tally is the event log folded, the store's events are
/// never changed after they are appended, and a reloaded org (SIGHUP) starts the tallies afresh.
public final class DashboardFigures: Sendable {
    struct Entry: Sendable {
        var fingerprint: Int
        var tally: AssessmentTally
        var position: Int64
    }

    /// How many months are kept (the assessment page shows six).
    let capacity: Int
    /// Events read and decoded at a time.
    static let chunk = 20_000
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    public init(capacity: Int = 8) {
        self.capacity = capacity
    }

    /// The month's tally over the whole tree, brought up to date with the events appended since the
    /// last view, read through `reader`.
    func month(_ month: String, range: (start: Date, end: Date), org: OrgTree, reader: any StoreReader) throws -> AssessmentTally {
        let fingerprint = Self.fingerprint(org)
        var entry =
            entries.withLockedValue { $0[month] }.flatMap { $0.fingerprint == fingerprint ? $0 : nil }
            ?? Entry(fingerprint: fingerprint, tally: AssessmentTally(org: org, scopeUnitID: nil), position: 0)
        let before = entry.position
        // In chunks, so the first read of a month (≈ 600,000 events) never holds them all at once.
        while true {
            let (events, position) = try reader.events(from: range.start, to: range.end, after: entry.position, limit: Self.chunk)
            entry.tally.add(events)
            entry.position = position
            if events.count < Self.chunk { break }
        }
        guard entry.position != before else { return entry.tally }
        let kept = entry
        entries.withLockedValue { all in
            // Two views may have read at once: keep the one that read further.
            if let current = all[month], current.fingerprint == fingerprint, current.position >= kept.position { return }
            all[month] = kept
            if all.count > capacity, let oldest = all.keys.sorted().first(where: { $0 != month }) { all[oldest] = nil }
        }
        return entry.tally
    }

    /// Changes when units are added, removed, renamed or moved.
    static func fingerprint(_ org: OrgTree) -> Int {
        var hasher = Hasher()
        hasher.combine(org.units.count)
        for unit in org.units {
            hasher.combine(unit.id)
            hasher.combine(unit.parentID)
            hasher.combine(unit.name)
            hasher.combine(unit.tier)
            for member in unit.members {
                hasher.combine(member.id)
                hasher.combine(member.name)
                hasher.combine(member.roles)
            }
        }
        return hasher.finalize()
    }
}

extension DashboardFigures {
    /// The months whose figures are kept (tests, logs).
    public var keptMonths: [String] { entries.withLockedValue { $0.keys.sorted() } }
}

/// Reads the current month into the kept figures a little after start-up, so the first dashboard
/// view after a restart does not pay for the whole month (≈ 600,000 events for 30,000 tasks). One
/// read transaction on a reader connection: the writer is never blocked. Then waits for shutdown.
public struct DashboardWarmUp: NamedService {
    let engine: Engine
    let figures: DashboardFigures
    /// Seconds after start-up (the catch-up of timers and outbox that were due goes first).
    let delay: Double

    public init(engine: Engine, figures: DashboardFigures, delay: Double = 10) {
        self.engine = engine
        self.figures = figures
        self.delay = delay
    }

    public func run() async throws {
        let bell = Doorbell()
        await bell.wait(seconds: delay)
        if !Task.isShuttingDownGracefully && !Task.isCancelled {
            let config = engine.config
            let month = TimeFormat(timeZone: config.timeZone).month(engine.clock.now())
            if let range = RegistryScope.monthRange(month, timeZone: config.timeZone) {
                let figures = figures
                do {
                    try await engine.store.read { reader in _ = try figures.month(month, range: range, org: config.org, reader: reader) }
                } catch {
                    engine.logger.warning("dashboard warm-up failed; the first view reads the month", metadata: ["error": "\(error)"])
                }
            }
        }
        // A service that returns would stop the whole group: wait for the shutdown.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await bell.wait(seconds: 3600)
        }
    }
}
