import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging
import ServiceLifecycle

/// The bot's core loop as one value: turns committed inbound messages into state changes and
/// outbound messages, and fires due timers — each inside one store transaction.
///
/// A chat message enters at `process(_:tx:)` (called by `Ingestor` in the transaction that commits it), is parsed by the catalogue-driven `CommandParser`,
/// handled by the command's `CommandHandler` (which calls the pure policies in LeagueCore), and
/// leaves as rows in the outbox that `OutboxService` sends.
public struct Engine: Sendable {
    public let config: BotConfig
    public let parser: CommandParser
    public let store: any Store
    public let clock: any WallClock
    public let adapters: [String: any PlatformAdapter]
    public let logger: Logger
    /// Counters and histograms of what the engine does (issue 14).
    public let metrics: LeagueMetrics
    /// Where the org is looked up: org.yaml with the bindings learned in chat (`/绑定`, `/登记`).
    public let directory: OrgDirectory
    /// How features reach each other (`Seams.live` unless a test gives others).
    public let seams: Seams
    private let commandHandlers: [String: CommandHandler]
    private let timerHandlers: [TimerKind: TimerHandler]
    /// Why this build must not start, whatever the config: a declared timer kind without a handler,
    /// a handler for an undeclared kind, a command or timer kind registered by two features.
    /// Empty when the features' contracts hold (`StartupContractTests`).
    public let registrationProblems: [String]

    /// - Parameter extraTimers: more timer kinds (tests add failing ones).
    public init(
        config: BotConfig, store: any Store, clock: any WallClock, adapters: [String: any PlatformAdapter], logger: Logger,
        extraTimers: [TimerKind: TimerHandler] = [:], metrics: LeagueMetrics = LeagueMetrics(), seams: Seams = .live
    ) {
        self.metrics = metrics
        self.seams = seams
        self.config = config
        self.parser = CommandParser(catalogue: config.catalogue, ackPhrases: config.ackPhrases, botNames: config.botNames)
        self.store = store
        self.clock = clock
        self.adapters = adapters
        self.logger = logger
        self.directory = OrgDirectory(configured: config.org)
        let (commands, timers, problems) = Self.register(Self.features)
        self.registrationProblems = problems
        self.commandHandlers = commands
        self.timerHandlers = timers.merging(extraTimers) { _, extra in extra }
    }

    /// Collects the features' handlers, and what is wrong with them: a command or timer kind
    /// registered twice, a handler for a timer kind not in `TimerKind.declared`, a declared kind
    /// no feature handles (its timers would be put aside as dead).
    static func register(_ features: [any Feature.Type]) -> (commands: [String: CommandHandler], timers: [TimerKind: TimerHandler], problems: [String]) {
        var commands: [String: CommandHandler] = [:]
        var timers: [TimerKind: TimerHandler] = [:]
        var problems: [String] = []
        for feature in features {
            var featureCommands: [String: CommandHandler] = [:]
            var featureTimers: [TimerKind: TimerHandler] = [:]
            feature.register(commands: &featureCommands, timers: &featureTimers)
            for id in featureCommands.keys.sorted() where commands[id] != nil {
                problems.append("command \(id) has two handlers (the second in \(feature))")
            }
            for kind in featureTimers.keys.map(\.rawValue).sorted() where timers[TimerKind(rawValue: kind)] != nil {
                problems.append("timer kind \(kind) has two handlers (the second in \(feature))")
            }
            commands.merge(featureCommands) { first, _ in first }
            timers.merge(featureTimers) { first, _ in first }
        }
        for kind in timers.keys.map(\.rawValue).sorted() where !TimerKind.declared.contains(TimerKind(rawValue: kind)) {
            problems.append("timer kind \(kind) has a handler but is not declared in TimerKind.declared")
        }
        for kind in TimerKind.declared where timers[kind] == nil {
            problems.append("timer kind \(kind) is declared but no feature handles it: its timers would be put aside as dead")
        }
        return (commands, timers, problems)
    }

    /// The features of the bot; each registers its command and timer handlers.
    nonisolated(unsafe) static let features: [any Feature.Type] = [TaskFeature.self, HelpFeature.self, DeliberationFeature.self, RegistryFeature.self, DashboardFeature.self, OnboardingFeature.self]

    /// The org as last built: org.yaml with the bindings learned in chat.
    public var org: OrgTree { directory.current }

    /// How a member answers a notice on a platform (`收到` or `@机器人 收到`).
    public func ackHint(_ platform: String) -> String {
        adapters[platform]?.ackHint(config.language) ?? config.language.pick("回复“收到”确认", "reply 收到 to acknowledge")
    }

    // MARK: Inbound

    /// True when a message is `/绑定 …`: the one message heard from a chat no unit is bound to.
    public func isBindingCode(_ message: ChatMessage) -> Bool {
        guard case .command(let command) = parser.parse(message.text, mentionsBot: message.mentionsBot) else { return false }
        return command.id == "bind"
    }

    /// What to keep in the store instead of the text, when it must not be kept as said: `/登记`'s
    /// mobile number is masked (138****0000). Nil for every other message.
    public func storedText(for message: ChatMessage) -> String? {
        let text = message.text
        guard text.contains("登记") || text.range(of: "register", options: .caseInsensitive) != nil else { return nil }
        guard case .command(let command) = parser.parse(text, mentionsBot: message.mentionsBot), command.id == "register" else { return nil }
        let masked = Mobile.maskDigits(in: text)
        return masked == text ? nil : masked
    }

    /// Processes one inbound message inside `tx` and marks it processed. Its command runs in a
    /// savepoint, so a failing command is answered and skipped without undoing anything else.
    /// `Ingestor` calls this in the transaction that commits the message; `InboxService` for
    /// read-only commands a crash cut short after their commit, and messages an older version left unprocessed.
    /// A message processed already (a read-only command finished meanwhile) is skipped.
    public func process(_ record: InboundRecord, tx: any StoreTransaction) throws {
        guard try tx.markProcessedOnce(record.id, at: clock.now()) else { return }
        handle(record, tx: tx)
    }

    /// Processes committed, unprocessed inbound messages: writing ones in one transaction, read-only
    /// commands each in a snapshot plus a short write (`processReadOnly`).
    public func process(_ records: [InboundRecord]) async throws {
        guard !records.isEmpty else { return }
        let engine = self
        let readOnly = records.filter { isReadOnly($0.message) }
        let writing = records.filter { !isReadOnly($0.message) }
        if !writing.isEmpty {
            try await store.write { tx in
                for record in writing { try engine.process(record, tx: tx) }
            }
        }
        for record in readOnly { try await processReadOnly(record) }
    }

    func handle(_ record: InboundRecord, tx: any StoreTransaction) {
        let message = record.message
        let org = directory.tree(tx)
        guard let unit = unit(for: message) else {
            // Only a binding code is heard from a chat no unit is bound to.
            if case .command(let command) = parser.parse(message.text, mentionsBot: message.mentionsBot), command.id == "bind" {
                seams.bindUnboundChat(self, tx, record, org, command)
                return
            }
            logger.info("message from an unbound chat ignored", metadata: ["platform": "\(message.platform)", "chat": "\(message.chat)"])
            return
        }
        let member = member(for: message)
        let parsed = parser.parse(message.text, mentionsBot: message.mentionsBot)
        let command: ParsedCommand
        switch parsed {
        case .notACommand:
            // Plain chat is never relayed, but meeting minutes read it back: personal data is not kept (PrivacyCheck.swift).
            screenPlainChat(record, unit: unit, member: member, org: org, tx: tx)
            return
        case .error(let error):
            // Plain chat that happens to start with '#' (a hashtag) from an unregistered sender stays quiet.
            guard member != nil || message.mentionsBot else {
                screenPlainChat(record, unit: unit, member: member, org: org, tx: tx)
                return
            }
            // Text addressed to the bot that is no command is screened like plain chat, and never echoed.
            if screenPlainChat(record, unit: unit, member: member, org: org, tx: tx, addressed: true) { return }
            metrics.command("unparsed", outcome: "error")
            let context = CommandContext(engine: self, tx: tx, record: record, org: org, unit: unit, member: member, command: ParsedCommand(id: "error"))
            try? context.reply(Texts.parseError(error, parser: parser, language: config.language))
            return
        case .command(let value):
            command = value
        }
        let context = CommandContext(engine: self, tx: tx, record: record, org: org, unit: unit, member: member, command: command)
        do {
            try checkPermission(context)
            try screenPrivacy(context)
            guard let handler = commandHandlers[command.id] else {
                throw Refusal(zh: "命令 \(command.id) 尚未实现。", en: "Command \(command.id) is not available.")
            }
            try tx.savepoint { try handler(context) }
            metrics.command(command.id, outcome: "ok")
        } catch let refusal as Refusal {
            metrics.command(command.id, outcome: "refused")
            // An unregistered sender's plain 收到 is ordinary chat, not worth a reply.
            if command.id == "ack" && member == nil { return }
            try? tx.savepoint { try context.reply(refusal.text(config.language), mentionSender: true) }
        } catch {
            metrics.command(command.id, outcome: "error")
            logger.error("command failed", metadata: ["command": "\(command.id)", "inbound": "\(record.id)", "error": "\(error)"])
            try? tx.savepoint {
                try context.reply(config.language.pick("处理命令时出错，请稍后再试或联系管理员。", "Something went wrong handling that command; please try again later or tell an admin."))
            }
        }
    }

    /// Roles and tiers from the command's catalogue entry; flag roles (who may mark 紧急).
    func checkPermission(_ context: CommandContext) throws(Refusal) {
        guard let catalogued = parser.spec(context.command.id) else { return }
        // Registry feature (issue 5): roles from `permissions:` in leagueops.yaml override the catalogue's (urgent flag).
        let spec = config.registry.permissions.applied(to: catalogued)
        let name = spec.names.zh.first ?? spec.id
        let nameEn = spec.names.en.first ?? spec.id
        if Permissions.actingCommands.contains(spec.id) {
            // Acting for the group's unit: a member of it with the role, or an admin above (issue 11).
            let roles = spec.roles ?? []
            switch Permissions.actFor(context.member, unitID: context.unit.id, roles: roles, org: context.org) {
            case .allowed:
                break
            case .unknownSender:
                throw Refusal.unknownSender
            case .otherUnit(let memberUnitID, _):
                let home = context.org.unit(memberUnitID)?.name ?? memberUnitID
                throw Refusal(
                    zh: "您是\(home)的成员，不能在\(context.unit.name)群代表\(context.unit.name)使用 /\(name)。请在\(home)群中发送。",
                    en: "You belong to \(home), so you cannot use /\(nameEn) for \(context.unit.name) here. Send it in \(home)'s group.")
            case .missingRole(let needed):
                throw Refusal.needsRole("使用 /\(name)", "use /\(nameEn)", needed)
            }
        } else if let roles = spec.roles, !roles.isEmpty {
            let member = try context.requireMember()
            guard roles.contains(where: member.has) else { throw Refusal.needsRole("使用 /\(name)", "use /\(nameEn)", roles) }
        }
        if let tiers = spec.tiers, !tiers.isEmpty, !tiers.contains(context.unit.tier) {
            throw Refusal(
                zh: "/\(name) 不能在\(TaskTexts.tierName(context.unit.tier, .zh))群使用。",
                en: "/\(nameEn) cannot be used in a \(context.unit.tier) group.")
        }
        for flag in context.command.flags {
            guard let roles = spec.flagRoles?[flag], !roles.isEmpty else { continue }
            let member = try context.requireMember()
            let adminAbove = member.has(.admin) && member.unitID != context.unit.id && context.org.isInSubtree(context.unit.id, of: member.unitID)
            guard adminAbove || roles.contains(where: member.has) else {
                throw Refusal.needsRole("使用“\(spec.flags?[flag]?.first ?? flag)”", "mark a command \(flag)", roles)
            }
        }
    }

    // MARK: Timers

    /// Fires every timer due at `now`, each exactly once (the fired mark and its effects commit together).
    ///
    /// A handler that throws undoes its own effects and its fired mark (one savepoint) and the timer
    /// is retried with exponential backoff (`timerBackoff`), counted in /healthz; a timer that can
    /// never fire (unknown kind, a subject its handler cannot decode: `TimerPoison`) is put aside
    /// as dead with its reason, never dropped silently nor retried forever.
    /// - Returns: how many timers were handled (fired, retried later or put aside).
    @discardableResult
    public func fireDueTimers(limit: Int = 500) async throws -> Int {
        let engine = self
        return try await store.write { tx in
            let now = engine.clock.now()
            let due = try tx.dueTimers(at: now, limit: limit)
            if !due.isEmpty { _ = engine.directory.tree(tx) }
            var handled = 0
            for timer in due {
                guard let handler = engine.timerHandlers[timer.kind] else {
                    engine.logger.critical("timer of an unknown kind put aside", metadata: ["kind": "\(timer.kind)", "key": "\(timer.key)"])
                    try tx.markTimerDead(timer.key, reason: "unknown timer kind \(timer.kind)", at: now)
                    handled += 1
                    continue
                }
                do {
                    var fresh = true
                    try tx.savepoint {
                        fresh = try tx.markFired(timer.key, at: now)
                        guard fresh else { return }
                        try handler(TimerContext(engine: engine, tx: tx, timer: timer, now: now))
                    }
                    if fresh { handled += 1; engine.metrics.timerFired(kind: timer.kind.rawValue, lateness: now.timeIntervalSince(timer.dueAt)) }
                } catch let poison as TimerPoison {
                    engine.logger.critical("timer that cannot fire put aside", metadata: ["key": "\(timer.key)", "reason": "\(poison.reason)"])
                    try tx.markTimerDead(timer.key, reason: poison.reason, at: now)
                    handled += 1
                } catch {
                    // The savepoint undid the fired mark and the handler's writes: try again later.
                    let attempts = try tx.retryTimer(timer.key, error: "\(error)") { now.addingTimeInterval(Self.timerBackoff(attempts: $0)) }
                    engine.logger.error("timer failed; retrying", metadata: ["key": "\(timer.key)", "attempt": "\(attempts)", "error": "\(error)"])
                    handled += 1
                }
            }
            return handled
        }
    }

    /// Wait before retrying a failed timer: 1 s, 2 s, 4 s … capped at 5 minutes. Pure.
    public static func timerBackoff(attempts: Int) -> Double {
        min(pow(2, Double(max(attempts, 1) - 1)), 300)
    }
}

/// A feature registers its chat commands (by catalogue id) and its timer kinds, and may do work
/// once at start-up; services run the hooks without naming any feature.
protocol Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler])
    /// Runs once when the bot starts, before the first timer round (e.g. scheduling the month's
    /// deliberation reminders). Failures are the feature's to log; start-up goes on.
    static func start(_ engine: Engine) async
}

extension Feature {
    static func start(_ engine: Engine) async {}
}

extension Engine {
    /// One write (a start-up hook's); a failure is logged with `message`, not thrown.
    func writeOrLog(_ message: Logger.Message, _ body: @escaping @Sendable (any StoreTransaction) throws -> Void) async {
        do { try await store.write(body) } catch { logger.error(message, metadata: ["error": "\(error)"]) }
    }

    /// Runs every feature's start-up hook, in registration order.
    public func startFeatures() async {
        for feature in Self.features { await feature.start(self) }
    }

    /// Catalogue commands no feature handles (a `commands:` folder with a file the binary does not
    /// know): a start-up error, not a "not available" reply at the first use.
    public var commandsWithoutHandler: [String] {
        config.catalogue.map(\.id).filter { commandHandlers[$0] == nil }.sorted()
    }
}

/// A short name in logs and in ServiceLifecycle's service names. ServiceLifecycle names each service
/// with `"\(service)"` when a group is made; without this, every service holding the engine printed the
/// whole config and org through reflection: seconds at start-up for the real district, and the growth
/// with org size that the in-process scaling line showed (issue 16).
extension Engine: CustomStringConvertible {
    public var description: String { "Engine(\(config.org.units.count) units)" }
}

/// A service named by its type alone in logs and ServiceLifecycle's service names (see `Engine`'s description).
public protocol NamedService: Service, CustomStringConvertible {}

extension NamedService {
    public var description: String { "\(Self.self)" }
}
