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
