import Foundation

// The dashboard's pages as plain values (issue 14). The server fills them from one read transaction;
// `DashboardHTML` renders them without I/O, so every page is tested on fixed data.

/// A link on a page: its text and its (already signed) address.
public struct DashboardLink: Sendable, Hashable {
    public var title: String
    public var href: String

    public init(_ title: String, _ href: String) {
        self.title = title
        self.href = href
    }
}

/// What every page shows around its content: title, where you are, the other pages, the link's expiry.
public struct DashboardFrame: Sendable, Hashable {
    public var language: Language
    public var title: String
    /// The unit the link was issued for (the top of what it may open).
    public var scopeName: String
    /// From the link's unit down to the unit shown.
    public var crumbs: [DashboardLink]
    /// Overview, assessment, deliberation, demands of the unit shown.
    public var nav: [DashboardLink]
    /// When the page was made, in the bot's time zone (`12-01 16:30`).
    public var generated: String
    /// When the link stops working.
    public var expires: String

    public init(language: Language, title: String, scopeName: String, crumbs: [DashboardLink], nav: [DashboardLink], generated: String, expires: String) {
        self.language = language
        self.title = title
        self.scopeName = scopeName
        self.crumbs = crumbs
        self.nav = nav
        self.generated = generated
        self.expires = expires
    }
}

// MARK: Overview

/// One unit's row on the overview: its whole subtree's figures.
public struct OverviewRow: Sendable, Hashable {
    public var unitID: String
    public var name: String
    public var tier: String
    /// The unit's own overview (nil when it is the unit shown).
    public var href: String?
    /// Open tasks still waiting for a group of the subtree.
    public var openTasks = 0
    /// Targets assigned to the subtree this month, and how many of them were acknowledged (on time).
    public var assigned = 0
    public var acknowledged = 0
    public var onTime = 0
    public var medianAckSeconds: Double?
    /// Targets of the subtree past their deadline and still not acknowledged.
    public var overdueNow = 0
    /// The monthly assessment grade of the unit itself (nil when it was not assessed).
    public var grade: Grade?

    public init(unitID: String, name: String, tier: String, href: String? = nil) {
        self.unitID = unitID
        self.name = name
        self.tier = tier
        self.href = href
    }

    /// Acknowledged share of this month's targets; nil when nothing was assigned.
    public var ackRate: Double? { assigned == 0 ? nil : Double(acknowledged) / Double(assigned) }
}

/// An open task on the overview.
public struct OpenTaskRow: Sendable, Hashable {
    public var label: String
    public var text: String
    public var urgent: Bool
    public var waiting: Int
    public var total: Int
    public var overdue: Int
    public var href: String

    public init(label: String, text: String, urgent: Bool, waiting: Int, total: Int, overdue: Int, href: String) {
        self.label = label
        self.text = text
        self.urgent = urgent
        self.waiting = waiting
        self.total = total
        self.overdue = overdue
        self.href = href
    }
}

/// The overview of a unit: itself, each child with its subtree's figures, the open tasks.
public struct OverviewPage: Sendable, Hashable {
    public var unitName: String
    public var month: String
    public var own: OverviewRow
    public var children: [OverviewRow]
    public var openTasks: [OpenTaskRow]

    public init(unitName: String, month: String, own: OverviewRow, children: [OverviewRow], openTasks: [OpenTaskRow]) {
        self.unitName = unitName
        self.month = month
        self.own = own
        self.children = children
        self.openTasks = openTasks
    }
}

// MARK: Roll call

/// Where one target group stands.
public enum RollCallState: String, Sendable, Hashable, CaseIterable {
    /// Acknowledged within the target.
    case onTime = "on-time"
    /// Acknowledged after the deadline.
    case late
    /// Not acknowledged, deadline not passed yet.
    case waiting
    /// Not acknowledged and past the deadline.
    case missing

    public func name(_ language: Language) -> String {
        switch self {
        case .onTime: return language.pick("已确认", "acknowledged")
        case .late: return language.pick("超时确认", "late")
        case .waiting: return language.pick("待确认", "waiting")
        case .missing: return language.pick("未确认", "missing")
        }
    }

    /// The state of a target at `now`.
    public static func of(_ target: TaskTarget, task: WorkTask, now: Date) -> RollCallState {
        if target.acknowledgedAt != nil { return target.isLate(for: task) ? .late : .onTime }
        return now >= task.deadline ? .missing : .waiting
    }
}

/// One target group on the roll call.
public struct RollCallRow: Sendable, Hashable {
    public var unitID: String
    public var name: String
    public var state: RollCallState
    /// Seconds from dispatch to acknowledgement.
    public var ackSeconds: Double?
    /// Who acknowledged (a member's name).
    public var ackBy: String?
    /// Escalation steps in which this group was late (`1, 2`).
    public var steps: [Int]

    public init(unitID: String, name: String, state: RollCallState, ackSeconds: Double? = nil, ackBy: String? = nil, steps: [Int] = []) {
        self.unitID = unitID
        self.name = name
        self.state = state
        self.ackSeconds = ackSeconds
        self.ackBy = ackBy
        self.steps = steps
    }
}

/// A step of the escalation ladder taken for the task.
public struct RollCallStep: Sendable, Hashable {
    public var step: Int
    /// Seconds after dispatch.
    public var offset: Double
    public var at: String
    /// The groups told.
    public var told: [String]
    public var late: Int

    public init(step: Int, offset: Double, at: String, told: [String], late: Int) {
        self.step = step
        self.offset = offset
        self.at = at
        self.told = told
        self.late = late
    }
}

/// The roll call of one task, as far as the link's part of the tree goes.
public struct RollCallPage: Sendable, Hashable {
    public var label: String
    public var text: String
    public var urgent: Bool
    public var isReport: Bool
    public var issuer: String
    public var created: String
    public var deadline: String
    public var status: TaskStatus
    /// The target in seconds (10 min routine, 3 min urgent by default).
    public var targetSeconds: Double
    /// Seconds from dispatch to the moment the page was made.
    public var elapsed: Double
    public var rows: [RollCallRow]
    public var steps: [RollCallStep]
    /// Targets outside the link's part of the tree (counted, not shown).
    public var hiddenTargets: Int
    /// The Server-Sent Events stream of this page (nil: no live updates, e.g. a closed task).
    public var eventsHref: String?

    public init(
        label: String, text: String, urgent: Bool, isReport: Bool, issuer: String, created: String, deadline: String, status: TaskStatus,
        targetSeconds: Double, elapsed: Double, rows: [RollCallRow], steps: [RollCallStep], hiddenTargets: Int, eventsHref: String?
    ) {
        self.label = label
        self.text = text
        self.urgent = urgent
        self.isReport = isReport
        self.issuer = issuer
        self.created = created
        self.deadline = deadline
        self.status = status
        self.targetSeconds = targetSeconds
        self.elapsed = elapsed
        self.rows = rows
        self.steps = steps
        self.hiddenTargets = hiddenTargets
        self.eventsHref = eventsHref
    }

    /// How many rows are in each state.
    public var counts: [RollCallState: Int] { rows.reduce(into: [:]) { $0[$1.state, default: 0] += 1 } }
}

// MARK: Assessment

/// The assessment of a unit's children for a month, with a six-month trend.
public struct AssessmentPage: Sendable, Hashable {
    public var unitName: String
    public var month: String
    /// The unit itself first, then its children (figures of each unit itself, as `report monthly`).
    public var units: [UnitFigures]
    /// Drill-down links by unit id (children only).
    public var hrefs: [String: String]
    public var green: Double
    public var yellow: Double
    /// The months of the trend, oldest first (the page's month last).
    public var months: [String]
    /// On-time share per unit id and month (same order as `months`; nil when nothing was received).
    public var trend: [String: [Double?]]
    public var csvHref: String
    public var previous: DashboardLink?
    public var next: DashboardLink?

    public init(
        unitName: String, month: String, units: [UnitFigures], hrefs: [String: String], green: Double, yellow: Double,
        months: [String], trend: [String: [Double?]], csvHref: String, previous: DashboardLink? = nil, next: DashboardLink? = nil
    ) {
        self.unitName = unitName
        self.month = month
        self.units = units
        self.hrefs = hrefs
        self.green = green
        self.yellow = yellow
        self.months = months
        self.trend = trend
        self.csvHref = csvHref
        self.previous = previous
        self.next = next
    }
}

// MARK: Deliberation

/// One unit below on the deliberation page: how many units of its subtree that owe minutes (the deliberation tiers) have them this month.
public struct MinutesRow: Sendable, Hashable {
    public var name: String
    public var tier: String
    /// Its own deliberation page (nil for a grid).
    public var href: String?
    /// The signed minutes page of the unit (and below), when there are minutes.
    public var minutesHref: String?
    public var withMinutes: Int
    public var owing: Int

    public init(name: String, tier: String, href: String?, minutesHref: String?, withMinutes: Int, owing: Int) {
        self.name = name
        self.tier = tier
        self.href = href
        self.minutesHref = minutesHref
        self.withMinutes = withMinutes
        self.owing = owing
    }
}

/// Which units below held their 9th-day meeting and have minutes this month.
public struct DeliberationPage: Sendable, Hashable {
    public var unitName: String
    public var month: String
    public var own: MinutesRow
    public var rows: [MinutesRow]
    public var previous: DashboardLink?

    public init(unitName: String, month: String, own: MinutesRow, rows: [MinutesRow], previous: DashboardLink? = nil) {
        self.unitName = unitName
        self.month = month
        self.own = own
        self.rows = rows
        self.previous = previous
    }
}

// MARK: Demands

/// An open demand on the page: number, category, state, age, who holds it. Never its text (it may
/// describe a minor), never a name or a contact.
public struct DemandRow: Sendable, Hashable {
    public var label: String
    public var category: String?
    public var state: DemandState
    public var age: String
    public var holder: String
    /// Waiting in its state longer than its limit (`demands:` in leagueops.yaml).
    public var overdue: Bool

    public init(label: String, category: String?, state: DemandState, age: String, holder: String, overdue: Bool) {
        self.label = label
        self.category = category
        self.state = state
        self.age = age
        self.holder = holder
        self.overdue = overdue
    }

    /// True when a demand has waited in its state longer than its limit at `now`.
    public static func isOverdue(_ demand: Demand, limits: [DemandState: Double], now: Date) -> Bool {
        guard demand.state.isOpen, let limit = limits[demand.state], limit > 0 else { return false }
        return now.timeIntervalSince(demand.stateSince) > limit
    }
}

/// Demands collected in a unit's subtree: counts by state and category, the oldest open ones.
public struct DemandsPage: Sendable {
    public var unitName: String
    public var byState: [DemandState: Int]
    /// Categories with their counts, largest first (`—` for none).
    public var byCategory: [(String, Int)]
    public var overdue: Int
    public var oldestOpen: [DemandRow]

    public init(unitName: String, byState: [DemandState: Int], byCategory: [(String, Int)], overdue: Int, oldestOpen: [DemandRow]) {
        self.unitName = unitName
        self.byState = byState
        self.byCategory = byCategory
        self.overdue = overdue
        self.oldestOpen = oldestOpen
    }

    public var total: Int { byState.values.reduce(0, +) }
}
