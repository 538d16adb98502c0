import Foundation

/// One line of the registry's audit log: who asked or did what, when, and whether it was allowed.
public struct AuditEntry: Sendable, Hashable {
    public var at: Date
    /// A member id, or `operator:<user>` for the CLI.
    public var actor: String
    /// The unit whose group (or CLI scope) the request came from.
    public var unitID: String?
    /// `query.youth`, `query.demands`, `query.tasks`, `query.assessment`, `query.minutes`, `registry.show`, `registry.import`, …
    public var action: String
    /// The unit asked about and the arguments.
    public var detail: String
    /// `allowed` or `refused`.
    public var outcome: String

    public init(at: Date, actor: String, unitID: String?, action: String, detail: String, outcome: String = "allowed") {
        self.at = at
        self.actor = actor
        self.unitID = unitID
        self.action = action
        self.detail = detail
        self.outcome = outcome
    }
}

/// Store operations of the registry feature (youth registry, demands, audit log).
public protocol RegistryRecords {
    /// Replaces every row of a grid with `rows` (an empty list empties the grid).
    func replaceYouth(gridID: String, rows: [YouthRecord], at now: Date) throws
    /// Counts per grid for the given grids (all grids when nil).
    func youthCounts(gridIDs: Set<String>?) throws -> [String: YouthCounts]
    /// Per-person rows of the given units, for the operator's CLI only.
    func youthRows(gridIDs: Set<String>) throws -> [YouthRecord]
    /// The next free demand number (D-<n>).
    func nextDemandID() throws -> Int
    func insert(_ demand: Demand) throws
    func update(_ demand: Demand) throws
    func demand(_ id: Int) throws -> Demand?
    /// Demands collected by any of the units, optionally in one state, oldest first.
    func demands(unitIDs: Set<String>, state: DemandState?) throws -> [Demand]
    func appendAudit(_ entry: AuditEntry) throws
    /// The newest audit entries first.
    func auditEntries(limit: Int) throws -> [AuditEntry]
}

extension AuditEntry {
    /// The time as `2026-11-09 19:00:05 +08:00` in `timeZone`.
    public func time(in timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return formatter.string(from: at)
    }

    /// One line of `leagueops audit`: time, outcome, action, actor, unit, detail (tab-separated;
    /// tabs and line breaks inside a field are shown as spaces, so one entry is one line).
    public func line(timeZone: TimeZone) -> String {
        [time(in: timeZone), outcome, action, actor, unitID ?? "-", detail]
            .map { $0.map { $0 == "\t" || $0.isNewline ? " " : $0 }.map(String.init).joined() }
            .joined(separator: "\t")
    }

    /// The CSV header of `leagueops audit --format csv`.
    public static let csvHeader = "at,outcome,action,actor,unit,detail"

    /// One CSV row (RFC 4180 quoting).
    public func csvRow(timeZone: TimeZone) -> String {
        CSV.row([time(in: timeZone), outcome, action, actor, unitID ?? "", detail])
    }
}
