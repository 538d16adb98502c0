import Foundation
import LeagueConfig
import LeagueCore
import NIOConcurrencyHelpers

extension Engine {
    /// Commands that only read (/进度, /帮助, /纪要, /查询, the /议程 list, /诉求 列表): they read on a
    /// reader connection and write only their effects (reply, audit row) in a short write, so a query
    /// over whole tables never holds the writer that every webhook waits for.
    public static func isReadOnly(_ command: ParsedCommand) -> Bool {
        switch command.id {
        case "status", "help", "minutes", "query": true
        case "agenda": command.text.isEmpty && command.targets.isEmpty  // without an item: the list
        case "demand": command.sub == "list"
        default: false
        }
    }

    /// True when the message is a command that only reads, from a bound group.
    public func isReadOnly(_ message: ChatMessage) -> Bool {
        // Cheap first: plain chat and 收到 (the bulk of traffic) are not parsed twice.
        if !message.mentionsBot {
            guard let first = message.text.first(where: { !$0.isWhitespace }), "/#／＃".contains(first) else { return false }
        }
        guard org.unit(platform: message.platform, chat: message.chat) != nil else { return false }
        if case .command(let command) = parser.parse(message.text, mentionsBot: message.mentionsBot) {
            return Self.isReadOnly(command)
        }
        return false
    }

    /// Processes a committed read-only command: the handler runs in a snapshot (reader connection)
    /// with its writes recorded, then the writes and the processed mark commit in one short write.
    /// A message already processed (by the inbox service, say) is not processed again.
    public func processReadOnly(_ record: InboundRecord) async throws {
        let engine = self
        let writes = try await store.snapshot { reader in
            let deferred = DeferredWrites(reader)
            engine.handle(record, tx: deferred)
            return deferred.recorded
        }
        try await store.write { tx in
            guard try tx.markProcessedOnce(record.id, at: engine.clock.now()) else { return }
            for write in writes { try write(tx) }
        }
    }
}

/// A write a read-only command asked for, replayed in the short write after its snapshot.
public typealias DeferredWrite = @Sendable (any StoreTransaction) throws -> Void

/// A transaction for read-only commands: reads go to a snapshot, writes are recorded and replayed
/// later (`Engine.processReadOnly`). A savepoint that throws drops the writes recorded inside it.
/// Writes whose result the caller needs (a fired mark, a count) are refused: a command using them is
/// not read-only and belongs in the ingest transaction.
final class DeferredWrites: StoreTransaction, @unchecked Sendable {
    private let base: any StoreTransaction
    private let writes = NIOLockedValueBox<[DeferredWrite]>([])

    init(_ base: any StoreTransaction) { self.base = base }

    var recorded: [DeferredWrite] { writes.withLockedValue { $0 } }

    private func record(_ write: @escaping DeferredWrite) { writes.withLockedValue { $0.append(write) } }

    struct NotReadOnly: Error, CustomStringConvertible {
        var what: String
        var description: String { "\(what) is not allowed in a read-only command" }
    }

    // MARK: Savepoints

    func savepoint(_ body: () throws -> Void) throws {
        let mark = writes.withLockedValue { $0.count }
        do {
            try body()
        } catch {
            writes.withLockedValue { $0.removeSubrange(mark...) }
            throw error
        }
    }

    // MARK: Reads (the snapshot)

    func task(_ id: Int) throws -> WorkTask? { try base.task(id) }
    func targets(ofTask id: Int) throws -> [TaskTarget] { try base.targets(ofTask: id) }
    func escalations(ofTask id: Int) throws -> [EscalationRecord] { try base.escalations(ofTask: id) }
    func openTasks(involving unitID: String, limit: Int) throws -> [WorkTask] { try base.openTasks(involving: unitID, limit: limit) }
    func oldestWaitingTarget(unitID: String) throws -> TaskTarget? { try base.oldestWaitingTarget(unitID: unitID) }
    func unprocessedInbound(limit: Int) throws -> [InboundRecord] { try base.unprocessedInbound(limit: limit) }
    func dueTimers(at now: Date, limit: Int) throws -> [TimerEntry] { try base.dueTimers(at: now, limit: limit) }
    func nextTimerDue() throws -> Date? { try base.nextTimerDue() }
    func dueOutbox(at now: Date, limit: Int) throws -> [OutboxEntry] { try base.dueOutbox(at: now, limit: limit) }
    func pendingDeliveries(robots: Set<String>) throws -> [PendingDelivery] { try base.pendingDeliveries(robots: robots) }
    func nextOutboxDue() throws -> Date? { try base.nextOutboxDue() }
    func dueOutbox(at now: Date, limit: Int, excludingRobots: Set<String>, maxRobots: Int) throws -> DueOutbox {
        try base.dueOutbox(at: now, limit: limit, excludingRobots: excludingRobots, maxRobots: maxRobots)
    }
    func nextOutboxDue(excludingRobots: Set<String>) throws -> Date? { try base.nextOutboxDue(excludingRobots: excludingRobots) }
    func robotPauses(robots: Set<String>?) throws -> [RobotPause] { try base.robotPauses(robots: robots) }
    func robotSends(robots: Set<String>?, since: Date) throws -> [RobotSend] { try base.robotSends(robots: robots, since: since) }
    func outboxHealth(at now: Date) throws -> OutboxHealth { try base.outboxHealth(at: now) }
    func outbox(key: String) throws -> OutboxEntry? { try base.outbox(key: key) }
    func events(from: Date, to: Date) throws -> [EventRecord] { try base.events(from: from, to: to) }
    func events(from: Date, to: Date, after position: Int64, limit: Int) throws -> (events: [EventRecord], position: Int64) {
        try base.events(from: from, to: to, after: position, limit: limit)
    }
    func health(at now: Date, tolerance: Double) throws -> StoreHealth { try base.health(at: now, tolerance: tolerance) }
    func waitingTargets() throws -> [WaitingTarget] { try base.waitingTargets() }
    func oldestPendingOutbox() throws -> Date? { try base.oldestPendingOutbox() }
    func nextTaskID() throws -> Int { try base.nextTaskID() }
    func nextMeetingID() throws -> Int { try base.nextMeetingID() }
    func meeting(_ id: Int) throws -> Meeting? { try base.meeting(id) }
    func openMeeting(unitID: String) throws -> Meeting? { try base.openMeeting(unitID: unitID) }
    func minutes(unitIDs: [String], month: String?) throws -> [Meeting] { try base.minutes(unitIDs: unitIDs, month: month) }
    func unitsWithMinutes(month: String) throws -> Set<String> { try base.unitsWithMinutes(month: month) }
    func inbound(platform: String, chat: String, after: Int64, through: Int64) throws -> [InboundRecord] {
        try base.inbound(platform: platform, chat: chat, after: after, through: through)
    }
    func lastInboundID(platform: String, chat: String) throws -> Int64 { try base.lastInboundID(platform: platform, chat: chat) }
    func agenda(unitID: String, month: String) throws -> [AgendaItem] { try base.agenda(unitID: unitID, month: month) }
    func agendaCount(unitID: String, month: String) throws -> Int { try base.agendaCount(unitID: unitID, month: month) }
    func agenda(addedBy sourceUnitID: String, month: String) throws -> [AgendaItem] { try base.agenda(addedBy: sourceUnitID, month: month) }
    func openFollowUps(unitID: String) throws -> [FollowUp] { try base.openFollowUps(unitID: unitID) }
    func deliberationValue(_ key: String) throws -> String? { try base.deliberationValue(key) }
    func youthCounts(gridIDs: Set<String>?) throws -> [String: YouthCounts] { try base.youthCounts(gridIDs: gridIDs) }
    func youthRows(gridIDs: Set<String>) throws -> [YouthRecord] { try base.youthRows(gridIDs: gridIDs) }
    func nextDemandID() throws -> Int { try base.nextDemandID() }
    func demand(_ id: Int) throws -> Demand? { try base.demand(id) }
    func demands(unitIDs: Set<String>, state: DemandState?) throws -> [Demand] { try base.demands(unitIDs: unitIDs, state: state) }
    func auditEntries(limit: Int) throws -> [AuditEntry] { try base.auditEntries(limit: limit) }
    func countPrivacyRefusals(memberID: String, since: Date) throws -> Int { try base.countPrivacyRefusals(memberID: memberID, since: since) }

    // MARK: Writes (recorded)

    func blankInboundText(_ inboundID: Int64) throws { record { try $0.blankInboundText(inboundID) } }
    func insert(_ task: WorkTask) throws { record { try $0.insert(task) } }
    func update(_ task: WorkTask) throws { record { try $0.update(task) } }
    func insert(_ targets: [TaskTarget]) throws { record { try $0.insert(targets) } }
    func update(_ target: TaskTarget) throws { record { try $0.update(target) } }
    func insert(_ record: EscalationRecord) throws { self.record { try $0.insert(record) } }
    func enqueue(_ message: OutboundMessage, at now: Date) throws { record { try $0.enqueue(message, at: now) } }
    func schedule(_ timer: TimerEntry) throws { record { try $0.schedule(timer) } }
    func markProcessed(_ inboundID: Int64, at now: Date) throws { record { try $0.markProcessed(inboundID, at: now) } }
    func append(_ event: EventRecord) throws { record { try $0.append(event) } }
    func markSent(_ outboxID: Int64, at now: Date) throws { record { try $0.markSent(outboxID, at: now) } }
    func markRetry(_ outboxID: Int64, attempts: Int, next: Date, error: String) throws {
        record { try $0.markRetry(outboxID, attempts: attempts, next: next, error: error) }
    }
    func postpone(_ outboxIDs: [Int64], until: Date) throws { record { try $0.postpone(outboxIDs, until: until) } }
    func markDead(_ outboxID: Int64, attempts: Int, error: String, at now: Date) throws {
        record { try $0.markDead(outboxID, attempts: attempts, error: error, at: now) }
    }
    func markTimerDead(_ key: String, reason: String, at now: Date) throws { record { try $0.markTimerDead(key, reason: reason, at: now) } }
    func save(_ meeting: Meeting) throws { record { try $0.save(meeting) } }
    func insert(_ item: AgendaItem) throws { record { try $0.insert(item) } }
    func insert(_ followUp: FollowUp) throws { record { try $0.insert(followUp) } }
    func closeFollowUps(_ ids: [Int64], at: Date) throws { record { try $0.closeFollowUps(ids, at: at) } }
    func setDeliberationValue(_ key: String, _ value: String) throws {
        // Only ever the first value: a key written meanwhile by someone else wins.
        record { tx in if try tx.deliberationValue(key) == nil { try tx.setDeliberationValue(key, value) } }
    }
    func replaceYouth(gridID: String, rows: [YouthRecord], at now: Date) throws { record { try $0.replaceYouth(gridID: gridID, rows: rows, at: now) } }
    func insert(_ demand: Demand) throws { record { try $0.insert(demand) } }
    func update(_ demand: Demand) throws { record { try $0.update(demand) } }
    func appendAudit(_ entry: AuditEntry) throws { record { try $0.appendAudit(entry) } }
    func markDropped(_ outboxID: Int64, reason: String, at now: Date) throws { record { try $0.markDropped(outboxID, reason: reason, at: now) } }
    func recordSends(_ sends: [RobotSend]) throws { record { try $0.recordSends(sends) } }
    func setPause(_ pause: RobotPause) throws { record { try $0.setPause(pause) } }
    func clearPause(robotID: String) throws { record { try $0.clearPause(robotID: robotID) } }
    func shiftOutbox(back seconds: Double, now: Date) throws { record { try $0.shiftOutbox(back: seconds, now: now) } }

    // Onboarding (issue 13): reads from the snapshot, writes recorded.
    func bindingCode(hash: String) throws -> BindingCodeRecord? { try base.bindingCode(hash: hash) }
    func learnedBindings() throws -> LearnedBindings { try base.learnedBindings() }
    func issueCodes(_ codes: [BindingCodeRecord]) throws { record { try $0.issueCodes(codes) } }
    func markCodeUsed(hash: String, at: Date, in place: String) throws { record { try $0.markCodeUsed(hash: hash, at: at, in: place) } }
    func bindChat(_ binding: ChatBindingRecord) throws { record { try $0.bindChat(binding) } }
    func registerMemberID(_ record: MemberIDRecord) throws { self.record { try $0.registerMemberID(record) } }
    func afterCommit(_ action: @escaping @Sendable () -> Void) { record { $0.afterCommit(action) } }

    // Writes whose answer the caller needs cannot be deferred.
    func markFired(_ key: String, at now: Date) throws -> Bool { throw NotReadOnly(what: "markFired") }
    func markProcessedOnce(_ inboundID: Int64, at now: Date) throws -> Bool { throw NotReadOnly(what: "markProcessedOnce") }
    func retryTimer(_ key: String, error: String, next: (_ attempts: Int) -> Date) throws -> Int { throw NotReadOnly(what: "retryTimer") }
    func closeDemandFollowUps(demandRef: String, at: Date) throws -> Int { throw NotReadOnly(what: "closeDemandFollowUps") }
    func unbindChat(unitID: String) throws -> ChatBindingRecord? { throw NotReadOnly(what: "unbindChat") }
}
