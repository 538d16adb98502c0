import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging
import ServiceLifecycle

/// Sends the outbox: every robot has its own rate window, urgent messages go first, routine
/// messages to a backed-up group are merged into one digest, failures are retried with exponential
/// backoff, and after `max_attempts` a message is put aside as dead and the root's admins are told.
/// Nothing is dropped: a message waits in the store until it is delivered or declared dead.
public struct OutboxService: Service {
    let engine: Engine
    let transport: any HTTPTransport
    let doorbell: Doorbell
    let maxSleep: Double
    let concurrency: Int

    public func run() async throws {
        var windows: [String: RateWindow] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let wait = try await round(windows: &windows)
                if let wait { await doorbell.wait(seconds: min(max(wait, 0.001), maxSleep)) }
            } catch {
                engine.logger.error("outbox round failed; retrying", metadata: ["error": "\(error)"])
                await doorbell.wait(seconds: 1)
            }
        }
    }

    /// One batch of work; returns how long to wait before the next (nil: go again at once).
    func round(windows: inout [String: RateWindow]) async throws -> Double? {
        let now = engine.clock.now()
        let due = try await engine.store.read { try $0.dueOutbox(at: now, limit: 512) }
        if due.isEmpty {
            let next = try await engine.store.read { try $0.nextOutboxDue() }
            return next.map { $0.timeIntervalSince(now) } ?? maxSleep
        }
        let plan = OutboxPlanner.plan(due, windows: &windows, adapters: engine.adapters, now: now)
        if !plan.postponed.isEmpty {
            try await engine.store.write { tx in
                for (until, ids) in plan.postponed { try tx.postpone(ids, until: until) }
            }
        }
        guard !plan.sends.isEmpty || !plan.unsendable.isEmpty else { return 0 }
        let results = await send(plan.sends)
        let config = engine.config
        let org = engine.org
        let logger = engine.logger
        let doneAt = engine.clock.now()
        var pauses: [(robot: String, until: Date)] = []
        for (send, outcome) in results {
            if case .rateLimited(let after, _) = outcome {
                pauses.append((send.message.group.robotID, doneAt.addingTimeInterval(after ?? 60)))
                logger.warning("robot rate limited", metadata: ["robot": "\(send.message.group.robotID)"])
            }
        }
        try await engine.store.write { tx in
            for (entry, reason) in plan.unsendable {
                try tx.markDead(entry.id, attempts: entry.attempts, error: reason, at: doneAt)
                try Self.reportDead(entry.message, reason: reason, config: config, org: org, tx: tx, now: doneAt)
            }
            for (send, outcome) in results {
                for entry in send.entries {
                    switch outcome {
                    case .delivered:
                        try tx.markSent(entry.id, at: doneAt)
                    case .rateLimited(let after, let reason):
                        let until = doneAt.addingTimeInterval(after ?? 60)
                        try tx.markRetry(entry.id, attempts: entry.attempts, next: until, error: "rate limited: \(reason)")
                    case .retryLater(let reason):
                        let attempts = entry.attempts + 1
                        if attempts >= config.outbox.maxAttempts {
                            try tx.markDead(entry.id, attempts: attempts, error: reason, at: doneAt)
                            try Self.reportDead(entry.message, reason: reason, config: config, org: org, tx: tx, now: doneAt)
                        } else {
                            let backoff = min(config.outbox.backoffSeconds * pow(2, Double(attempts - 1)), config.outbox.maxBackoffSeconds)
                            try tx.markRetry(entry.id, attempts: attempts, next: doneAt.addingTimeInterval(backoff), error: reason)
                        }
                    case .permanentFailure(let reason):
                        try tx.markDead(entry.id, attempts: entry.attempts + 1, error: reason, at: doneAt)
                        try Self.reportDead(entry.message, reason: reason, config: config, org: org, tx: tx, now: doneAt)
                    }
                }
            }
        }
        for pause in pauses { windows[pause.robot, default: RateWindow(perMinute: nil, perSecond: nil)].pause(until: pause.until) }
        return nil
    }

    /// Sends one round. Different robots go in parallel (up to `concurrency`); one robot's sends go
    /// one after another in plan order, so urgent messages reach the group first, and once the robot
    /// answers "rate limited" the rest of its round is not sent but waits with the same pause.
    private func send(_ sends: [OutboxPlanner.Send]) async -> [(OutboxPlanner.Send, DeliveryOutcome)] {
        let adapters = engine.adapters
        let transport = transport
        let timeout = engine.config.outbox.timeoutSeconds
        let clock = engine.clock
        var byRobot: [String: [OutboxPlanner.Send]] = [:]
        var robots: [String] = []
        for send in sends {
            let robot = send.message.group.robotID
            if byRobot[robot] == nil { robots.append(robot) }
            byRobot[robot, default: []].append(send)
        }
        @Sendable func one(_ send: OutboxPlanner.Send) async -> DeliveryOutcome {
            guard let adapter = adapters[send.message.group.platform] else {
                return .permanentFailure("platform \(send.message.group.platform) is not configured")
            }
            do {
                let request = try adapter.encode(send.message, now: clock.now())
                let response = try await transport.send(request, timeout: timeout)
                return adapter.classify(response)
            } catch let error as EncodeError {
                return .permanentFailure(error.reason)
            } catch {
                return .retryLater("\(error)")
            }
        }
        return await withTaskGroup(of: [(OutboxPlanner.Send, DeliveryOutcome)].self) { group in
            var results: [(OutboxPlanner.Send, DeliveryOutcome)] = []
            var iterator = robots.compactMap { byRobot[$0] }.makeIterator()
            var running = 0
            func start(_ queue: [OutboxPlanner.Send]) {
                group.addTask {
                    var done: [(OutboxPlanner.Send, DeliveryOutcome)] = []
                    var paused: DeliveryOutcome?
                    for send in queue {
                        if let paused {
                            done.append((send, paused))
                            continue
                        }
                        let outcome = await one(send)
                        if case .rateLimited(let after, let reason) = outcome {
                            paused = .rateLimited(retryAfter: after, "not sent, robot paused: \(reason)")
                        }
                        done.append((send, outcome))
                    }
                    return done
                }
            }
            while running < concurrency, let next = iterator.next() {
                start(next)
                running += 1
            }
            while let result = await group.next() {
                results.append(contentsOf: result)
                if let next = iterator.next() { start(next) }
            }
            return results
        }
    }

    /// Tells the root unit's admins that a message could not be delivered (never for such a report itself).
    static func reportDead(_ message: OutboundMessage, reason: String, config: BotConfig, org: OrgTree? = nil, tx: any StoreTransaction, now: Date) throws {
        // The org comes through the engine's directory (a root group bound with /绑定 is told too).
        let org = org ?? config.org
        guard !message.key.hasPrefix("dead:"), let root = org.root, let group = root.group else { return }
        let unitName = org.unit(message.unitID)?.name ?? message.unitID
        let text = config.language.pick(
            "⚠️ 消息无法送达 \(unitName)（\(message.group.platform)）：\(reason)。内容：\(TaskPolicy.excerpt(message.text, 60))。请检查该群机器人配置。",
            "⚠️ A message could not be delivered to \(unitName) (\(message.group.platform)): \(reason). Text: \(TaskPolicy.excerpt(message.text, 60)). Check that group's robot settings."
        )
        let admins = root.members.filter { $0.has(.admin) }
        try tx.enqueue(OutboundMessage(key: "dead:\(message.key)", unitID: root.id, group: group, text: text,
                                       mentions: TaskPolicy.mentions(of: admins, platform: group.platform), priority: .urgent), at: now)
        try tx.append(EventRecord(at: now, kind: "outbox.dead", unitID: message.unitID, data: ["key": message.key, "reason": reason]))
    }
}

/// Chooses what to send now: per-robot rate windows, urgent first, digests for backed-up groups. Pure.
public enum OutboxPlanner {
    /// One HTTP send: a message, or a digest standing for several outbox entries.
    public struct Send: Sendable {
        public var message: OutboundMessage
        public var entries: [OutboxEntry]
    }

    public struct Plan: Sendable {
        public var sends: [Send] = []
        /// Entries that must wait for their robot's window, by the time the window opens.
        public var postponed: [(Date, [Int64])] = []
        public var unsendable: [(OutboxEntry, String)] = []
    }

    /// Plans one round. `due` is ordered urgent first, then by age.
    public static func plan(_ due: [OutboxEntry], windows: inout [String: RateWindow], adapters: [String: any PlatformAdapter], now: Date, digestLimit: Int = 1800) -> Plan {
        var plan = Plan()
        var byRobot: [String: [OutboxEntry]] = [:]
        var robots: [String] = []
        for entry in due {
            guard let adapter = adapters[entry.message.group.platform] else {
                plan.unsendable.append((entry, "platform \(entry.message.group.platform) is not configured"))
                continue
            }
            let robot = entry.message.group.robotID
            if byRobot[robot] == nil {
                robots.append(robot)
                if windows[robot] == nil { windows[robot] = RateWindow(perMinute: adapter.rateLimit.perMinute, perSecond: adapter.rateLimit.perSecond) }
            }
            byRobot[robot, default: []].append(entry)
        }
        for robot in robots {
            let queue = byRobot[robot]!
            var window = windows[robot]!
            // A robot with more waiting than it may send now merges routine messages per group into digests.
            var capacity = 0
            var probe = window
            while capacity < queue.count, probe.nextSlot(at: now) <= now {
                probe.record(at: now)
                capacity += 1
            }
            var postponed: [Int64] = []
            var wakeAt: Date?
            var sends: [Send] = []
            for item in digestGroups(queue, merge: queue.count > capacity, limit: digestLimit) {
                let slot = window.nextSlot(at: now)
                if slot <= now {
                    window.record(at: now)
                    sends.append(item)
                } else {
                    wakeAt = wakeAt ?? slot
                    postponed.append(contentsOf: item.entries.map(\.id))
                }
            }
            plan.sends.append(contentsOf: sends)
            if let wakeAt, !postponed.isEmpty { plan.postponed.append((wakeAt, postponed)) }
            windows[robot] = window
        }
        return plan
    }

    /// Groups entries into sends; with `merge`, routine messages to the same group are joined into
    /// digests of at most `limit` UTF-8 bytes (urgent messages always go alone and first).
    static func digestGroups(_ entries: [OutboxEntry], merge: Bool, limit: Int) -> [Send] {
        guard merge else { return entries.map { Send(message: $0.message, entries: [$0]) } }
        var sends: [Send] = []
        var open: [String: Int] = [:]
        for entry in entries {
            let message = entry.message
            guard message.priority == .routine else {
                sends.append(Send(message: message, entries: [entry]))
                continue
            }
            let chat = message.group.chat
            if let index = open[chat], sends[index].message.text.utf8.count + message.text.utf8.count + 8 <= limit {
                var merged = sends[index]
                if merged.entries.count == 1 { merged.message.key = "digest:" + merged.message.key }
                merged.message.text += "\n——————\n" + message.text
                for mention in message.mentions where !merged.message.mentions.contains(mention) { merged.message.mentions.append(mention) }
                merged.entries.append(entry)
                sends[index] = merged
            } else {
                open[chat] = sends.count
                sends.append(Send(message: message, entries: [entry]))
            }
        }
        return sends
    }
}
