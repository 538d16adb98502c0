import Foundation
import LeagueConfig
import LeagueCore

/// Everything a command handler needs for one message: who, where, what, when, and the open transaction.
public struct CommandContext {
    public let engine: Engine
    public let tx: any StoreTransaction
    public let record: InboundRecord
    /// The org as the engine sees it for this message (org.yaml with the bindings learned in chat).
    public let org: OrgTree
    /// The unit whose group the message came from.
    public let unit: OrgUnit
    /// The registered member who sent it (nil for an unknown sender).
    public let member: Member?
    public let command: ParsedCommand
    /// When the bot received the message: deadlines count from here.
    public let now: Date
    private let replyCounter = Counter()

    init(engine: Engine, tx: any StoreTransaction, record: InboundRecord, org: OrgTree, unit: OrgUnit, member: Member?, command: ParsedCommand) {
        self.engine = engine
        self.tx = tx
        self.record = record
        self.org = org
        self.unit = unit
        self.member = member
        self.command = command
        self.now = record.receivedAt
    }

    public var config: BotConfig { engine.config }
    public var language: Language { engine.config.language }
    public var settings: TaskSettings { engine.config.tasks }
    /// What this feature may ask of the others (`Seams`).
    public var seams: Seams { engine.seams }

    /// The sender, or a refusal for an unregistered one.
    public func requireMember() throws(Refusal) -> Member {
        guard let member else { throw Refusal.unknownSender }
        return member
    }

    /// Replies in the group the message came from.
    public func reply(_ text: String, mentionSender: Bool = false, priority: Priority = .routine) throws {
        guard let group = unit.group else { return }
        let n = replyCounter.next()
        var mentions: [Mention] = []
        if mentionSender, let member {
            mentions = TaskPolicy.mentions(of: [member], platform: group.platform)
        }
        let message = OutboundMessage(
            key: "in:\(record.id):reply\(n == 0 ? "" : ":\(n)")", unitID: unit.id, group: group, text: text,
            mentions: mentions, priority: priority
        )
        try tx.enqueue(message, at: now)
    }

    /// Posts `text` in the group of unit `unitID`, @-mentioning `mentions` (nothing when the unit has no group).
    public func tell(_ unitID: String, key: String, text: String, mentions: [Member] = [], priority: Priority = .routine) throws {
        guard let target = org.unit(unitID), let group = target.group else { return }
        let message = OutboundMessage(
            key: key, unitID: target.id, group: group, text: text, mentions: TaskPolicy.mentions(of: mentions, platform: group.platform), priority: priority)
        try tx.enqueue(message, at: now)
    }

    /// Writes an event to the log at the message's time.
    public func log(_ kind: EventKind, taskID: Int? = nil, unitID: String? = nil, data: [String: String] = [:]) throws {
        try tx.append(EventRecord(at: now, kind: kind, taskID: taskID, unitID: unitID ?? unit.id, memberID: member?.id, data: data))
    }
}

/// Numbers the replies to one message, so each gets its own idempotency key.
final class Counter {
    private var value = 0
    func next() -> Int {
        defer { value += 1 }
        return value
    }
}

/// A chat command's implementation.
public typealias CommandHandler = @Sendable (CommandContext) throws -> Void

/// A timer kind's implementation: runs inside the transaction that marks the timer fired.
public typealias TimerHandler = @Sendable (TimerContext) throws -> Void

/// What a timer handler gets.
public struct TimerContext {
    public let engine: Engine
    public let tx: any StoreTransaction
    public let timer: TimerEntry
    /// The clock's time when the timer fired (may be later than `timer.dueAt` after a restart).
    public let now: Date

    public var config: BotConfig { engine.config }
    public var org: OrgTree { engine.org }
}
