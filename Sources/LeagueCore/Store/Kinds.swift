/// The kinds of timers the bot schedules. The engine dispatches a due timer to the handler
/// registered for its kind; every kind declared here must have exactly one handler, and a handler
/// may only be registered for a declared kind (both are start-up errors, `Engine.timerKindProblems`).
/// A row of a kind this binary does not know (written by another version) is put aside as dead.
public struct TimerKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    /// Also how the store reads a row back; code that schedules uses the constants below.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// One escalation step of a task (`TaskModel.taskStep`).
    public static let taskStep = TimerKind(rawValue: "task-step")
    /// One escalation step of a registered demand.
    public static let demandStep = TimerKind(rawValue: "demand-step")
    /// Deliberation day's eve and day reminders and the minutes deadline of a month.
    public static let deliberation = TimerKind(rawValue: "deliberation")
    /// The automatic close of a meeting left open.
    public static let deliberationMeeting = TimerKind(rawValue: "deliberation-meeting")
    /// The weekly notice of units with no bound group.
    public static let unboundNotice = TimerKind(rawValue: "onboarding-unbound")

    /// Every kind this binary schedules.
    public static let declared: [TimerKind] = [.taskStep, .demandStep, .deliberation, .deliberationMeeting, .unboundNotice]
}

/// The kinds of rows in the event log: what the assessment, the dashboard and the audit read back.
/// Writers use the constants; the store reads any text back (old rows keep their kinds).
public struct EventKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // Tasks and reports (TaskFeature).
    public static let taskCreated = EventKind(rawValue: "task.created")
    public static let reportCreated = EventKind(rawValue: "report.created")
    /// A unit became a target of a task (`data["kind"]`: dispatch or report).
    public static let targetAssigned = EventKind(rawValue: "target.assigned")
    /// A target's unit was removed from the org while the task was open (OrgReload).
    public static let targetClosed = EventKind(rawValue: "target.closed")
    public static let taskAck = EventKind(rawValue: "task.ack")
    public static let reportClaimed = EventKind(rawValue: "report.claimed")
    public static let taskDone = EventKind(rawValue: "task.done")
    public static let taskCancelled = EventKind(rawValue: "task.cancelled")
    /// A target missed its time (`data["step"]`).
    public static let taskBreach = EventKind(rawValue: "task.breach")

    // Demands (RegistryFeature).
    public static let demandCreated = EventKind(rawValue: "demand.created")
    public static let demandPublished = EventKind(rawValue: "demand.published")
    public static let demandClaimed = EventKind(rawValue: "demand.claimed")
    public static let demandProgress = EventKind(rawValue: "demand.progress")
    public static let demandResolved = EventKind(rawValue: "demand.resolved")
    public static let demandClosed = EventKind(rawValue: "demand.closed")
    public static let demandOverdue = EventKind(rawValue: "demand.overdue")

    // Deliberation day (DeliberationFeature).
    public static let deliberationAgenda = EventKind(rawValue: "deliberation.agenda")
    public static let deliberationMeetingOpened = EventKind(rawValue: "deliberation.meeting.opened")
    public static let deliberationMinutes = EventKind(rawValue: "deliberation.minutes")
    /// A reminder timer that came due too late to be worth sending.
    public static let deliberationSkipped = EventKind(rawValue: "deliberation.skipped")
    public static let deliberationEve = EventKind(rawValue: "deliberation.eve")
    public static let deliberationDay = EventKind(rawValue: "deliberation.day")
    public static let deliberationDue = EventKind(rawValue: "deliberation.due")
    /// A unit without minutes at the deadline.
    public static let deliberationMissing = EventKind(rawValue: "deliberation.missing")

    // Onboarding.
    public static let onboardBound = EventKind(rawValue: "onboard.bound")
    public static let onboardUnbound = EventKind(rawValue: "onboard.unbound")
    public static let onboardRegistered = EventKind(rawValue: "onboard.registered")
    public static let unboundNotice = EventKind(rawValue: "onboard.unbound-notice")
    public static let unboundNoticeSkipped = EventKind(rawValue: "onboard.unbound-notice.skipped")

    // The shell.
    public static let outboxDead = EventKind(rawValue: "outbox.dead")
    /// A command or chat line refused by the privacy screen (counted per sender: `countPrivacyRefusals`).
    public static let privacyRefused = EventKind(rawValue: "privacy.refused")

    /// Every kind this binary writes.
    public static let declared: [EventKind] = [
        .taskCreated, .reportCreated, .targetAssigned, .targetClosed, .taskAck, .reportClaimed, .taskDone, .taskCancelled, .taskBreach,
        .demandCreated, .demandPublished, .demandClaimed, .demandProgress, .demandResolved, .demandClosed, .demandOverdue,
        .deliberationAgenda, .deliberationMeetingOpened, .deliberationMinutes, .deliberationSkipped, .deliberationEve, .deliberationDay,
        .deliberationDue, .deliberationMissing,
        .onboardBound, .onboardUnbound, .onboardRegistered, .unboundNotice, .unboundNoticeSkipped,
        .outboxDead, .privacyRefused,
    ]
}
