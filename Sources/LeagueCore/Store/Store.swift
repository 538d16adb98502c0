import Foundation

/// A chat message as committed to the inbox.
public struct InboundRecord: Sendable, Hashable {
    /// The store's sequence number (0 before it is committed).
    public var id: Int64
    public var message: ChatMessage
    /// When the bot received it: deadlines of commands count from here.
    public var receivedAt: Date
    /// The text to keep in the store when it must differ from what was said (a `/登记` mobile masked);
    /// nil keeps the text as it is. Only the committing transaction sees the full text.
    public var storedText: String?

    public init(id: Int64 = 0, message: ChatMessage, receivedAt: Date, storedText: String? = nil) {
        self.id = id
        self.message = message
        self.receivedAt = receivedAt
        self.storedText = storedText
    }
}

/// What committing an inbound message did.
public enum IngestResult: Sendable, Hashable {
    case stored(Int64)
    /// The same platform message id was already committed: processed once only.
    case duplicate
}

/// An outbound message waiting in (or done with) the outbox.
public struct OutboxEntry: Sendable, Hashable {
    public enum State: String, Sendable, Hashable { case pending, sent, dead }

    public var id: Int64
    public var message: OutboundMessage
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var lastError: String?

    public init(id: Int64, message: OutboundMessage, state: State, attempts: Int, nextAttemptAt: Date, createdAt: Date, lastError: String?) {
        self.id = id
        self.message = message
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.lastError = lastError
    }
}

/// What the delivery forecast needs of a pending outbox entry, read without decoding its payload.
public struct PendingDelivery: Sendable, Hashable {
    public var key: String
    public var platform: String
    public var chat: String
    public var robotID: String
    public var priority: Priority
    /// UTF-8 bytes of the text (for digest sizes).
    public var bytes: Int
    public var nextAttemptAt: Date
    public var lastError: String?

    public init(key: String, platform: String, chat: String, robotID: String, priority: Priority, bytes: Int, nextAttemptAt: Date, lastError: String?) {
        self.key = key
        self.platform = platform
        self.chat = chat
        self.robotID = robotID
        self.priority = priority
        self.bytes = bytes
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

/// An outbox row whose payload no longer decodes: it is put aside as dead with this reason.
public struct UndecodableOutbox: Error, Sendable, Hashable {
    public var id: Int64
    public var key: String
    public var reason: String

    public init(id: Int64, key: String, reason: String) {
        self.id = id
        self.key = key
        self.reason = reason
    }
}

/// The due outbox rows of one read: the decoded entries (in send order) and the rows that did not decode.
public struct DueOutbox: Sendable, Hashable {
    public var entries: [OutboxEntry] = []
    public var undecodable: [UndecodableOutbox] = []

    public init() {}
}

/// Why a robot is not sent to for a while: the platform said slow down, or it failed (time-out,
/// 5xx, refused connection) and the circuit breaker opened. Kept in the store so a restart keeps it.
public struct RobotPause: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case rateLimited = "rate_limited", failing }

    public var robotID: String
    public var platform: String
    public var kind: Kind
    /// Not before this (wall clock).
    public var until: Date
    /// The length of this pause in seconds (caps the remaining pause after a clock step).
    public var seconds: Double
    /// When the robot stopped delivering (the first failure of this episode).
    public var since: Date
    /// Failures in a row (the breaker's backoff exponent).
    public var failures: Int
    public var reason: String

    public init(robotID: String, platform: String, kind: Kind, until: Date, seconds: Double, since: Date, failures: Int, reason: String) {
        self.robotID = robotID
        self.platform = platform
        self.kind = kind
        self.until = until
        self.seconds = seconds
        self.since = since
        self.failures = failures
        self.reason = reason
    }
}

/// A send made through a robot (its rate window is rebuilt from these after a restart).
public struct RobotSend: Sendable, Hashable {
    public var robotID: String
    public var platform: String
    public var at: Date

    public init(robotID: String, platform: String, at: Date) {
        self.robotID = robotID
        self.platform = platform
        self.at = at
    }
}

/// What /healthz needs to know of the outbox.
public struct OutboxHealth: Sendable, Hashable {
    public struct Backlog: Sendable, Hashable {
        public var platform: String
        public var robotID: String
        public var pending: Int

        public init(platform: String, robotID: String, pending: Int) {
            self.platform = platform
            self.robotID = robotID
            self.pending = pending
        }
    }

    /// Age of the oldest pending message (nil when none is pending).
    public var oldestPendingSeconds: Double?
    /// Messages put aside as dead in the last 24 hours.
    public var deadLastDay: Int = 0
    /// Rows put aside because their payload did not decode (ever).
    public var undecodable: Int = 0
    /// Robots currently paused, with the start of their episode.
    public var pauses: [RobotPause] = []
    /// Pending messages per robot.
    public var backlog: [Backlog] = []

    public init() {}
}

/// One line of the append-only event log; the assessment is computed from these.
public struct EventRecord: Sendable, Hashable, Codable {
    public var at: Date
    public var kind: EventKind
    public var taskID: Int?
    public var unitID: String?
    public var memberID: String?
    /// Extra facts, small and flat.
    public var data: [String: String]

    public init(at: Date, kind: EventKind, taskID: Int? = nil, unitID: String? = nil, memberID: String? = nil, data: [String: String] = [:]) {
        self.at = at
        self.kind = kind
        self.taskID = taskID
        self.unitID = unitID
        self.memberID = memberID
        self.data = data
    }
}

/// Counts the auditor and /healthz report.
public struct StoreHealth: Sendable, Hashable {
    public var unprocessedInbound = 0
    public var pendingOutbox = 0
    public var deadOutbox = 0
    public var overdueTimers = 0
    public var overdueOutbox = 0
    public var oldestOverdueSeconds: Double = 0
    /// Timers whose handler failed and that wait for a retry.
    public var retryingTimers: Int = 0
    /// Timers put aside as dead (unknown kind, undecodable subject), with their reason in the store.
    public var deadTimers: Int = 0

    public init() {}
}

/// Reads of the store, inside a read or a write transaction.
public protocol StoreReader {
    func task(_ id: Int) throws -> WorkTask?
    func targets(ofTask id: Int) throws -> [TaskTarget]
    func escalations(ofTask id: Int) throws -> [EscalationRecord]
    /// Open tasks issued by a unit or waiting on it, newest first.
    func openTasks(involving unitID: String, limit: Int) throws -> [WorkTask]
    /// The oldest open dispatch still waiting for this unit's acknowledgement.
    func oldestWaitingTarget(unitID: String) throws -> TaskTarget?
    func unprocessedInbound(limit: Int) throws -> [InboundRecord]
    func dueTimers(at now: Date, limit: Int) throws -> [TimerEntry]
    func nextTimerDue() throws -> Date?
    func dueOutbox(at now: Date, limit: Int) throws -> [OutboxEntry]
    /// Due outbox rows in send order of the first `maxRobots` robots with a due row (robots in
    /// `excludingRobots` left out), at most `limit` rows per robot; rows that do not decode are returned apart.
    func dueOutbox(at now: Date, limit: Int, excludingRobots: Set<String>, maxRobots: Int) throws -> DueOutbox
    /// The earliest next attempt of a pending message, robots in `excludingRobots` left out.
    func nextOutboxDue(excludingRobots: Set<String>) throws -> Date?
    /// The paused robots (all of them when `robots` is nil).
    func robotPauses(robots: Set<String>?) throws -> [RobotPause]
    /// Sends made through robots since `since` (all robots when `robots` is nil), oldest first.
    func robotSends(robots: Set<String>?, since: Date) throws -> [RobotSend]
    func outboxHealth(at now: Date) throws -> OutboxHealth
    /// Every pending outbox entry for these robots, in store order (the delivery forecast's input).
    func pendingDeliveries(robots: Set<String>) throws -> [PendingDelivery]
    func nextOutboxDue() throws -> Date?
    func outbox(key: String) throws -> OutboxEntry?
    /// Events with `from <= at < to`, in order.
    func events(from: Date, to: Date) throws -> [EventRecord]
    /// At most `limit` events with `from <= at < to` appended after `position`, in order, and the
    /// position to pass next time: a reader that keeps running figures reads only what is new, in
    /// bounded chunks (fewer than `limit` events: nothing more for now). `position` is opaque; start with 0.
    func events(from: Date, to: Date, after position: Int64, limit: Int) throws -> (events: [EventRecord], position: Int64)
    func health(at now: Date, tolerance: Double) throws -> StoreHealth

    // Dashboard pages (issue 14) read only through read transactions; these are the writers' reads they need.
    /// Targets of open dispatches not acknowledged yet, with their task's deadline.
    func waitingTargets() throws -> [WaitingTarget]
    /// Demands collected by any of the units, optionally in one state, oldest first.
    func demands(unitIDs: Set<String>, state: DemandState?) throws -> [Demand]
    /// The units with at least one closed meeting counting for a month.
    func unitsWithMinutes(month: String) throws -> Set<String>
    /// A value kept by the deliberation feature (the link key).
    func deliberationValue(_ key: String) throws -> String?
    /// When the oldest pending outbox message was queued (nil: none pending); for the metrics.
    func oldestPendingOutbox() throws -> Date?
}

/// A target of an open dispatch still waiting for its acknowledgement.
public struct WaitingTarget: Sendable, Hashable {
    public var taskID: Int
    public var unitID: String
    public var deadline: Date

    public init(taskID: Int, unitID: String, deadline: Date) {
        self.taskID = taskID
        self.unitID = unitID
        self.deadline = deadline
    }
}

/// Writes, inside one transaction: either everything in it is committed or nothing is.
public protocol StoreTransaction: StoreReader, DeliberationRecords, RegistryRecords, OnboardingRecords {
    /// Runs `action` once this transaction has committed (never when it rolls back).
    func afterCommit(_ action: @escaping @Sendable () -> Void)
    /// Empties the stored text of an inbound message (personal data that must not be kept, issue 11).
    func blankInboundText(_ inboundID: Int64) throws
    /// How many of `memberID`'s messages were refused by the privacy screen at or after `since`
    /// (`privacy.refused` events; read for every screened command, so it is an index seek).
    func countPrivacyRefusals(memberID: String, since: Date) throws -> Int
    /// Runs `body` in a nested savepoint: if it throws, only its own writes are undone.
    func savepoint(_ body: () throws -> Void) throws
    /// The next free task number (T-<n>).
    func nextTaskID() throws -> Int
    func insert(_ task: WorkTask) throws
    func update(_ task: WorkTask) throws
    func insert(_ targets: [TaskTarget]) throws
    func update(_ target: TaskTarget) throws
    func insert(_ record: EscalationRecord) throws
    /// Adds a message to the outbox; a message whose key is already there is ignored (never sent twice).
    func enqueue(_ message: OutboundMessage, at now: Date) throws
    /// Sets a timer; one whose key exists already (pending or fired) is ignored.
    func schedule(_ timer: TimerEntry) throws
    /// Marks a timer fired; returns false when it was fired already.
    func markFired(_ key: String, at now: Date) throws -> Bool
    func markProcessed(_ inboundID: Int64, at now: Date) throws
    /// Marks an inbound message processed unless it is already; returns false when it was.
    func markProcessedOnce(_ inboundID: Int64, at now: Date) throws -> Bool
    /// A timer's handler failed: counts the attempt and moves the timer to `next(attempts)` (its
    /// original due time is kept for the handler). Returns the number of failed attempts so far.
    @discardableResult
    func retryTimer(_ key: String, error: String, next: (_ attempts: Int) -> Date) throws -> Int
    /// Puts a timer aside for good (unknown kind, undecodable subject) with its reason.
    func markTimerDead(_ key: String, reason: String, at now: Date) throws
    func append(_ event: EventRecord) throws
    func markSent(_ outboxID: Int64, at now: Date) throws
    func markRetry(_ outboxID: Int64, attempts: Int, next: Date, error: String) throws
    /// Moves pending messages to a later attempt time without counting an attempt (rate limit).
    func postpone(_ outboxIDs: [Int64], until: Date) throws
    func markDead(_ outboxID: Int64, attempts: Int, error: String, at now: Date) throws
    /// Settles a pending message without sending it (state `sent`, `dropped_reason` set): it became pointless.
    func markDropped(_ outboxID: Int64, reason: String, at now: Date) throws
    /// Notes sends through a robot (one row each), forgetting those older than two minutes.
    func recordSends(_ sends: [RobotSend]) throws
    func setPause(_ pause: RobotPause) throws
    func clearPause(robotID: String) throws
    /// After the wall clock stepped back by `seconds`: moves pending attempts and robot pauses that
    /// lie in the future back by as much (not before `now`), so nothing waits for the lost time.
    func shiftOutbox(back seconds: Double, now: Date) throws
}

/// The durable store of the bot. SQLite today; the domain only sees this protocol.
public protocol Store: Sendable {
    /// Commits inbound messages in one transaction, deduplicated by (platform, message id).
    /// `process` runs for each newly stored message (with its id) inside that same transaction, so a
    /// message and everything it causes commit together or not at all; a duplicate is not processed.
    func ingest(_ records: [InboundRecord], process: @Sendable (InboundRecord, any StoreTransaction) throws -> Void) async throws -> [IngestResult]
    func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T
    func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T
    /// A read transaction on a reader connection (WAL snapshot), typed as a transaction so every
    /// feature's reads are available; it never waits for, nor blocks, the writer. Writes in it fail.
    func snapshot<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T
    /// After every commit of this store that added outbox rows, `outbox` is called; after every one that
    /// scheduled timers, `timers` (the outbox and timer services' doorbells: they wake only when there is
    /// something new for them, not after every commit). Set once, at start-up.
    func onCommit(outbox: @escaping @Sendable () -> Void, timers: @escaping @Sendable () -> Void)
    /// Housekeeping in short transactions: applies `retention` and checkpoints the write-ahead log.
    func maintain(_ retention: RetentionPolicy, now: Date) async throws -> MaintenanceReport
}

/// What the store may forget, and when.
public struct RetentionPolicy: Sendable, Hashable {
    /// Texts of processed inbound messages older than this are blanked; the rows (and so their
    /// dedupe keys) stay. Messages of a meeting still open are kept whole (its transcript).
    public var inboundSeconds: Double
    /// Sent outbox rows and fired timers older than this are deleted; never less than
    /// `minimumOutboxSeconds`, so no reminder that may still be scheduled again loses its key.
    public var outboxSeconds: Double

    public static let minimumOutboxSeconds: Double = 8 * 86_400

    public init(inboundSeconds: Double, outboxSeconds: Double) {
        self.inboundSeconds = inboundSeconds
        self.outboxSeconds = outboxSeconds
    }
}

/// What one housekeeping round did.
public struct MaintenanceReport: Sendable, Hashable {
    public var blankedInbound = 0
    public var deletedOutbox = 0
    public var deletedTimers = 0
    /// Frames left in the write-ahead log after the checkpoint (0: the log was emptied).
    public var walFramesLeft = 0

    public init() {}
}

/// A timer that can never fire (its subject does not decode): put aside as dead, not retried.
public struct TimerPoison: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A store failure the server maps to 503 so the platform retries (disk full, database locked).
public struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "store unavailable: \(reason)" }
}
