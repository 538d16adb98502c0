import Foundation

/// Which way work travels: a task dispatched down the tree or a report escalated up it.
public enum TaskKind: String, Sendable, Codable, Hashable {
    case dispatch
    case report
}

public enum TaskStatus: String, Sendable, Codable, Hashable {
    case open, done, cancelled

    public func name(_ language: Language) -> String {
        switch self {
        case .open: return language.pick("进行中", "open")
        case .done: return language.pick("已完成", "done")
        case .cancelled: return language.pick("已撤销", "cancelled")
        }
    }
}

/// A task (`T-<n>`): a dispatch to groups below, or a report to the groups above.
public struct WorkTask: Sendable, Codable, Hashable {
    public var id: Int
    public var kind: TaskKind
    public var urgent: Bool
    public var text: String
    public var issuerID: String
    public var issuerName: String
    public var issuerUnitID: String
    /// When the bot received the command: every deadline is measured from here.
    public var createdAt: Date
    /// The acknowledgement (or claim) target in seconds: 10 min routine, 3 min urgent by default.
    public var targetSeconds: Double
    public var status = TaskStatus.open
    public var closedAt: Date?
    public var closedBy: String?
    public var closeNote: String?
    /// For reports: who claimed it, from which unit, when.
    public var claimedBy: String?
    public var claimedUnitID: String?
    public var claimedAt: Date?

    public init(id: Int, kind: TaskKind, urgent: Bool, text: String, issuerID: String, issuerName: String, issuerUnitID: String, createdAt: Date, targetSeconds: Double) {
        self.id = id
        self.kind = kind
        self.urgent = urgent
        self.text = text
        self.issuerID = issuerID
        self.issuerName = issuerName
        self.issuerUnitID = issuerUnitID
        self.createdAt = createdAt
        self.targetSeconds = targetSeconds
    }

    public var deadline: Date { createdAt.addingTimeInterval(targetSeconds) }
    public var label: String { "T-\(id)" }
    public var priority: Priority { urgent ? .urgent : .routine }
}

/// One group a task must reach: its acknowledgement (dispatch) or claim (report) state.
public struct TaskTarget: Sendable, Codable, Hashable {
    public var taskID: Int
    public var unitID: String
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    /// Units whose groups were told this target was late (so they can be told when it arrives).
    public var toldUnitIDs: [String]

    public init(taskID: Int, unitID: String, acknowledgedAt: Date? = nil, acknowledgedBy: String? = nil, toldUnitIDs: [String] = []) {
        self.taskID = taskID
        self.unitID = unitID
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedBy = acknowledgedBy
        self.toldUnitIDs = toldUnitIDs
    }

    public var isWaiting: Bool { acknowledgedAt == nil }

    /// True when acknowledged after the task's deadline.
    public func isLate(for task: WorkTask) -> Bool {
        guard let at = acknowledgedAt else { return false }
        return at > task.deadline
    }
}

/// A step of the escalation ladder that was taken, with its time.
public struct EscalationRecord: Sendable, Codable, Hashable {
    public var taskID: Int
    /// 0 is the reminder, 1 the breach notice to the supervisors, 2… one tier further up each.
    public var step: Int
    public var at: Date
    /// The units whose groups were told.
    public var notifiedUnitIDs: [String]
    /// The target units that were late at this step.
    public var lateUnitIDs: [String]

    public init(taskID: Int, step: Int, at: Date, notifiedUnitIDs: [String], lateUnitIDs: [String]) {
        self.taskID = taskID
        self.step = step
        self.at = at
        self.notifiedUnitIDs = notifiedUnitIDs
        self.lateUnitIDs = lateUnitIDs
    }
}

/// A durable timer: due at a time, fired once. The key makes it unique.
public struct TimerEntry: Sendable, Codable, Hashable {
    /// `task:12:step:1`, `delib:2026-11:eve`, …
    public var key: String
    public var dueAt: Date
    /// The engine dispatches on it.
    public var kind: TimerKind
    /// What the timer is about: a task id, a month, a demand id.
    public var subject: String
    public var step: Int

    public init(key: String, dueAt: Date, kind: TimerKind, subject: String, step: Int) {
        self.key = key
        self.dueAt = dueAt
        self.kind = kind
        self.subject = subject
        self.step = step
    }

    /// The timer of one escalation step of a task.
    public static func taskStep(_ taskID: Int, step: Int, at: Date) -> TimerEntry {
        TimerEntry(key: "task:\(taskID):step:\(step)", dueAt: at, kind: .taskStep, subject: String(taskID), step: step)
    }
}
