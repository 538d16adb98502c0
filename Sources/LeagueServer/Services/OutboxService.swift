import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging
import ServiceLifecycle

/// Sends the outbox. Every robot has its own queue, rate window and circuit breaker, and is sent
/// to by its own task: a robot that times out or answers 5xx delays only its own group's messages.
///
/// A round reads the due messages of the robots that are not busy (urgent first, then by age),
/// plans them against each robot's rate window (routine messages to a backed-up group merged into
/// one digest), notes the planned sends in the store and starts one task per robot, at most
/// `concurrency` at once. A robot's task sends its messages one after another; the first time-out,
/// 5xx or refused connection opens the robot's breaker: the rest of its batch is not tried but
/// waits, without counting an attempt, until the breaker's backoff ends (doubling per failure,
/// capped at `outbox.max_backoff`); then one message is tried again. "Rate limited" pauses the robot
/// the same way. Pauses and sends are kept in the store, so a restart keeps rate windows and pauses;
/// windows are measured on the monotonic clock, and a backward step of the wall clock moves waiting
/// attempts back by as much. A failing message is retried until it is older than
/// `outbox.give_up_after` and was tried `outbox.max_attempts` times (`RetryPolicy`); then, or at once
/// for an answer the platform documents as permanent, it is put aside as dead and the root's admins
/// are told. A row whose payload does not decode is put aside as dead with the reason.
public struct OutboxService: NamedService {
    let engine: Engine
    let transport: any HTTPTransport
    let doorbell: Doorbell
    let maxSleep: Double
    let concurrency: Int
    /// At most this many due rows of one robot in one round (its batch, sent one after another over a
    /// kept-alive connection; a robot's window may let fewer go and the rest wait, merged into digests).
    var perRobot = 32
    /// Platform apps that post for bindings naming only the chat (Feishu app, WeCom AI bot), by platform.
    var appSenders: [String: any AppSender] = [:]
    let book = RobotBook()

    /// One robot's sends of a round.
    struct Batch: Sendable {
        var robot: String
        var platform: String
        var sends: [OutboxPlanner.Send]
    }

    var policy: RetryPolicy {
        let outbox = engine.config.outbox
        return RetryPolicy(
            maxAttempts: outbox.maxAttempts, backoff: outbox.backoffSeconds, maxBackoff: outbox.maxBackoffSeconds,
            giveUpAfter: outbox.giveUpAfterSeconds)
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    let started = engine.clock.now()
                    let (wait, batches) = try await round()
                    for batch in batches {
                        group.addTask { await self.deliver(batch) }
                    }
                    // Until the next attempt is due on the engine's clock (measured from before the round,
                    // so a clock moved meanwhile wakes it early rather than late), at most `maxSleep`.
                    if let wait {
                        await doorbell.wait(seconds: maxSleep, orUntil: started.addingTimeInterval(max(wait, 0.001)), on: engine.clock)
                    }
                } catch {
                    engine.logger.error("outbox round failed; retrying", metadata: ["error": "\(error)"])
                    await doorbell.wait(seconds: 1)
                }
            }
        }
        // Batches still in flight at shutdown have ended (the group waits for them): keep their outcomes.
        do {
            try await recordFinished()
        } catch {
            engine.logger.error("could not record the last sends; they will be sent again", metadata: ["error": "\(error)"])
        }
    }

    /// The monotonic clock as a date (rate windows and pauses live on this time line).
    private func monotonicNow() -> Date { Date(timeIntervalSinceReferenceDate: engine.clock.uptime()) }

    /// The outcomes of finished batches, written with the first write of a round.
    struct Outcomes {
        var finished: [RobotBook.Finished]
        var written = false
        /// Where a round's time went (logged when a round is slow): reading due rows, checking task
        /// steps, writing.
        var read: Duration = .zero
        var stale: Duration = .zero
        var write: Duration = .zero
    }

    /// A round slower than this is logged with where its time went (issue 16: notices that queue).
    static let slowRound: Duration = .milliseconds(250)

    /// One planning round; returns how long to wait before the next (nil: go again at once) and the
    /// robot batches to start. The outcomes of the batches that finished since the last round are
    /// written in the round's first write transaction (with the sends it notes, in a busy outbox: one
    /// commit a round, not two); their robots stay busy until then, so their rows are not read as due.
    func round() async throws -> (wait: Double?, batches: [Batch]) {
        var outcomes = Outcomes(finished: book.takeFinished())
        let started = ContinuousClock.now
        do {
            let result = try await planRound(&outcomes)
            if !outcomes.written { _ = try await write(&outcomes) { _ in } }
            let elapsed = ContinuousClock.now - started
            if elapsed > Self.slowRound {
                engine.logger.warning(
                    "slow outbox round",
                    metadata: [
                        "ms": "\(Self.milliseconds(elapsed))", "read_ms": "\(Self.milliseconds(outcomes.read))",
                        "stale_ms": "\(Self.milliseconds(outcomes.stale))", "write_ms": "\(Self.milliseconds(outcomes.write))",
                        "finished": "\(outcomes.finished.count)", "batches": "\(result.batches.count)",
                        "sends": "\(result.batches.reduce(0) { $0 + $1.sends.count })", "busy": "\(book.busy.count)",
                    ])
            }
            return result
        } catch {
            // Kept for the next try; the robots stay busy, so nothing is sent twice meanwhile.
            if !outcomes.written { book.requeue(outcomes.finished) }
            throw error
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// One write transaction, with the outcomes of the round's finished batches if not yet written;
    /// then those robots are free.
    private func write<T: Sendable>(_ outcomes: inout Outcomes, _ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        let started = ContinuousClock.now
        defer { outcomes.write += ContinuousClock.now - started }
        let finished = outcomes.written ? [] : outcomes.finished
        guard !finished.isEmpty else { return try await engine.store.write(body) }
        let policy = policy
        let config = engine.config
        let (value, counts) = try await engine.store.write { tx in
            var counts: [(platform: String, dead: Bool)] = []
            for batch in finished { counts += try Self.record(batch, policy: policy, config: config, tx: tx) }
            return (try body(tx), counts)
        }
        outcomes.written = true
        for count in counts {
            engine.metrics.send(platform: count.platform, outcome: count.dead ? "failed" : "retry")
            if count.dead { engine.metrics.deadLetter(platform: count.platform) }
        }
        for batch in finished { book.release(batch.robot) }
        return value
    }

    private func planRound(_ outcomes: inout Outcomes) async throws -> (wait: Double?, batches: [Batch]) {
        let wall = engine.clock.now()
        let mono = monotonicNow()
        if book.needsRestore {
            let (pauses, sends) = try await engine.store.read { reader in
                (try reader.robotPauses(robots: nil), try reader.robotSends(robots: nil, since: wall.addingTimeInterval(-61)))
            }
            book.restore(pauses: pauses, sends: sends, adapters: engine.adapters, wall: wall, mono: mono)
        }
        if let step = book.backwardStep(wall: wall, mono: mono) {
            engine.logger.warning("the wall clock stepped back; waiting messages moved back by as much", metadata: ["seconds": "\(Int(step))"])
            try await write(&outcomes) { tx in try tx.shiftOutbox(back: step, now: wall) }
        }
        // The robots of finished batches are still busy (not read as due) but free again after this round's write.
        let busy = book.busy
        let free = concurrency - busy.count + (outcomes.written ? 0 : outcomes.finished.count)
        guard free > 0 else { return (maxSleep, []) }
        let readStarted = ContinuousClock.now
        var due = try await engine.store.read { [perRobot] in try $0.dueOutbox(at: wall, limit: perRobot, excludingRobots: busy, maxRobots: free) }
        outcomes.read += ContinuousClock.now - readStarted
        if !due.undecodable.isEmpty {
            let undecodable = due.undecodable
            try await write(&outcomes) { tx in
                for bad in undecodable {
                    try tx.markDead(bad.id, attempts: 0, error: bad.reason, at: wall)
                    try tx.append(EventRecord(at: wall, kind: .outboxDead, data: ["key": bad.key, "reason": bad.reason]))
                }
            }
            for bad in due.undecodable {
                engine.logger.critical("outbox row put aside: its payload does not decode", metadata: ["key": "\(bad.key)", "reason": "\(bad.reason)"])
            }
        }
        if due.entries.isEmpty {
            // Robots freed by this round may have due rows that were not read: look again at once.
            if !due.undecodable.isEmpty || !outcomes.finished.isEmpty { return (nil, []) }
            let next = try await engine.store.read { try $0.nextOutboxDue(excludingRobots: busy) }
            return (next.map { $0.timeIntervalSince(wall) } ?? maxSleep, [])
        }
        // Reminders and breach notices that became pointless are settled without sending.
        let staleStarted = ContinuousClock.now
        let stale = try await staleSteps(due.entries)
        outcomes.stale += ContinuousClock.now - staleStarted
        if !stale.isEmpty {
            try await write(&outcomes) { tx in
                for (entry, reason) in stale { try tx.markDropped(entry.id, reason: reason, at: wall) }
            }
            let dropped = Set(stale.map(\.0.id))
            due.entries.removeAll { dropped.contains($0.id) }
            if due.entries.isEmpty { return (nil, []) }
        }
        // Rows hold no credentials and no mobiles: resolve them from the config now (issue 11), through
        // the org directory, so groups bound in chat (/绑定) resolve too (loaded from the store if needed).
        _ = await engine.directory.tree(engine.store)
        var unbound: [(OutboxEntry, String)] = []
        due.entries = due.entries.compactMap { entry in
            guard let message = engine.resolveForSending(entry.message) else {
                unbound.append((entry, "group \(entry.message.group.platform):\(entry.message.group.chat) is no longer bound to a unit"))
                return nil
            }
            var resolved = entry
            resolved.message = message
            return resolved
        }
        if !unbound.isEmpty {
            let config = engine.config
            let dead = unbound
            try await write(&outcomes) { tx in
                for (entry, reason) in dead {
                    try tx.markDead(entry.id, attempts: entry.attempts, error: reason, at: wall)
                    try Self.reportDead(entry.message, reason: reason, config: config, tx: tx, now: wall)
                }
            }
            if due.entries.isEmpty { return (nil, []) }
        }
        // As many robots as may send at once; the others stay due for the next round.
        var chosen: Set<String> = []
        var entries: [OutboxEntry] = []
        for entry in due.entries {
            let robot = entry.message.group.robotID
            if !chosen.contains(robot) {
                guard chosen.count < free else { continue }
                chosen.insert(robot)
            }
            entries.append(entry)
        }
        let plan = book.plan(entries, adapters: engine.adapters, now: mono)
        let config = engine.config
        // Only sends through a robot with a window are noted: a robot without limits (no rate limit of
        // its own, none shared) has no window to rebuild after a restart, and noting each of its sends
        // was a third of the rows a busy round wrote (issue 16).
        let adapters = engine.adapters
        let sends = plan.sends.filter { send in
            guard let adapter = adapters[send.message.group.platform] else { return true }
            return adapter.rateLimit != .unlimited || adapter.sharedRateLimit(for: send.message.group) != nil
        }.map { RobotSend(robotID: $0.message.group.robotID, platform: $0.message.group.platform, at: wall) }
        // The sends are noted before they go: a crash afterwards cannot make a restart exceed a window.
        try await write(&outcomes) { tx in
            for (until, ids) in plan.postponed { try tx.postpone(ids, until: wall.addingTimeInterval(until.timeIntervalSince(mono))) }
            try tx.recordSends(sends)
            for (entry, reason) in plan.unsendable {
                try tx.markDead(entry.id, attempts: entry.attempts, error: reason, at: wall)
                try Self.reportDead(entry.message, reason: reason, config: config, tx: tx, now: wall)
            }
        }
        var batches: [Batch] = []
        var index: [String: Int] = [:]
        for send in plan.sends {
            let robot = send.message.group.robotID
            if let at = index[robot] {
                batches[at].sends.append(send)
            } else {
                index[robot] = batches.count
                batches.append(Batch(robot: robot, platform: send.message.group.platform, sends: [send]))
            }
        }
        book.take(Set(batches.map(\.robot)))
        return (nil, batches)
    }

    /// The due task steps (reminders, breach notices: `task:<id>:step:<n>:<unit>`) not worth sending:
    /// their task was closed or cancelled meanwhile, or, for a reminder, the group's first notice of
    /// the task has not been delivered yet (it carries the task and its deadline; the reminder merges into it).
    func staleSteps(_ entries: [OutboxEntry]) async throws -> [(OutboxEntry, String)] {
        let steps = entries.compactMap { entry in OutboxPlanner.taskStep(entry.message.key).map { (entry, $0) } }
        guard !steps.isEmpty else { return [] }
        let ids = Set(steps.map(\.1.task))
        let notices = Set(steps.map { "task:\($0.1.task):notice:\($0.1.unit)" })
        let (statuses, waiting) = try await engine.store.read { reader -> ([Int: TaskStatus], Set<String>) in
            var statuses: [Int: TaskStatus] = [:]
            for id in ids { statuses[id] = try reader.task(id)?.status }
            var waiting: Set<String> = []
            for key in notices where try reader.outbox(key: key)?.state == .pending { waiting.insert(key) }
            return (statuses, waiting)
        }
        return OutboxPlanner.stale(steps, statuses: statuses, waitingNotices: waiting)
    }

    /// Sends one robot's batch in order and writes the outcome; the first failure or "rate limited"
    /// pauses the robot and leaves the rest of the batch waiting for the pause to end.
    func deliver(_ batch: Batch) async {
        let started = ContinuousClock.now
        var results: [(OutboxPlanner.Send, DeliveryOutcome)] = []
        var stop: DeliveryOutcome?
        var notSent: [OutboxPlanner.Send] = []
        for send in batch.sends {
            // On shutdown the batch stops between sends: what is left stays pending for the next start.
            if stop != nil || Task.isShuttingDownGracefully || Task.isCancelled {
                notSent.append(send)
                continue
            }
            let outcome = await sendOne(send)
            results.append((send, outcome))
            // A failure is counted when recorded: "retry", or "failed" when it went dead.
            switch outcome {
            case .delivered: engine.metrics.send(platform: batch.platform, outcome: "delivered")
            case .rateLimited:
                engine.metrics.send(platform: batch.platform, outcome: "rate_limited")
                engine.metrics.robotRateLimited(platform: batch.platform)
                stop = outcome
            case .retryLater: stop = outcome
            case .permanentFailure: break
            }
        }
        let elapsed = ContinuousClock.now - started
        if elapsed > .seconds(1) {
            engine.logger.warning(
                "slow robot batch",
                metadata: [
                    "robot": "\(batch.robot)", "ms": "\(Self.milliseconds(elapsed))",
                    "sends": "\(results.count)", "stopped": "\(stop.map { "\($0)" } ?? "no")",
                ])
        }
        let wall = engine.clock.now()
        let decision = book.afterBatch(
            robot: batch.robot, platform: batch.platform, stop: stop,
            delivered: results.contains { $0.1 == .delivered }, policy: policy, wall: wall, mono: monotonicNow())
        if case .paused(let pause) = decision {
            engine.logger.warning(
                "robot paused",
                metadata: [
                    "robot": "\(batch.robot)", "kind": "\(pause.kind.rawValue)",
                    "seconds": "\(Int(pause.seconds))", "reason": "\(pause.reason)",
                ])
        }
        // The robot stays busy until the loop has written this (its rows must not be read as due before).
        book.finish(
            RobotBook.Finished(
                robot: batch.robot, outcomes: results, waiting: notSent.flatMap { $0.entries.map(\.id) },
                decision: decision, at: wall))
        doorbell.ring()
    }

    /// Writes the outcomes of the robots' finished batches in one transaction, then frees those robots.
    func recordFinished() async throws {
        var outcomes = Outcomes(finished: book.takeFinished())
        guard !outcomes.finished.isEmpty else { return }
        do {
            try await write(&outcomes) { _ in }
        } catch {
            // Kept for the next try; the robots stay busy, so nothing is sent twice meanwhile.
            book.requeue(outcomes.finished)
            throw error
        }
    }

    /// The store's side of one robot's finished batch.
    /// - Returns: each failed message's platform, and whether it was put aside as dead (for the metrics).
    @discardableResult
    static func record(_ batch: RobotBook.Finished, policy: RetryPolicy, config: BotConfig, tx: any StoreTransaction) throws -> [(platform: String, dead: Bool)] {
        var failures: [(platform: String, dead: Bool)] = []
        let wall = batch.at
        let pause = batch.decision.pause
        for (send, outcome) in batch.outcomes {
            for entry in send.entries {
                switch outcome {
                case .delivered:
                    try tx.markSent(entry.id, at: wall)
                case .rateLimited(_, let reason):
                    try tx.markRetry(entry.id, attempts: entry.attempts, next: pause?.until ?? wall.addingTimeInterval(60), error: "rate limited: \(reason)")
                case .retryLater(let reason):
                    let attempts = entry.attempts + 1
                    switch policy.decide(attempts: attempts, createdAt: entry.createdAt, now: wall) {
                    case .giveUp:
                        try tx.markDead(entry.id, attempts: attempts, error: reason, at: wall)
                        try reportDead(entry.message, reason: reason, config: config, tx: tx, now: wall)
                        failures.append((entry.message.group.platform, true))
                    case .retry(let next):
                        try tx.markRetry(entry.id, attempts: attempts, next: max(next, pause?.until ?? next), error: reason)
                        failures.append((entry.message.group.platform, false))
                    }
                case .permanentFailure(let reason):
                    try tx.markDead(entry.id, attempts: entry.attempts + 1, error: reason, at: wall)
                    try reportDead(entry.message, reason: reason, config: config, tx: tx, now: wall)
                    failures.append((entry.message.group.platform, true))
                }
            }
        }
        if let until = pause?.until { try tx.postpone(batch.waiting, until: until) }
        switch batch.decision {
        case .paused(let pause): try tx.setPause(pause)
        case .resumed: try tx.clearPause(robotID: batch.robot)
        case .unchanged: break
        }
        return failures
    }

    /// Sends one message (or digest) through its platform adapter.
    private func sendOne(_ send: OutboxPlanner.Send) async -> DeliveryOutcome {
        if let app = appSenders[send.message.group.platform], app.handles(send.message.group) {
            return await app.send(send.message, timeout: engine.config.outbox.timeoutSeconds)
        }
        guard let adapter = engine.adapters[send.message.group.platform] else {
            return .permanentFailure("platform \(send.message.group.platform) is not configured")
        }
        do {
            let request = try adapter.encode(send.message, now: engine.clock.now())
            let response = try await transport.send(request, timeout: engine.config.outbox.timeoutSeconds)
            return adapter.classify(response)
        } catch let error as EncodeError {
            return .permanentFailure(error.reason)
        } catch {
            return .retryLater("\(error)")
        }
    }

    /// Tells the root unit's admins that a message could not be delivered (never for such a report itself).
    static func reportDead(_ message: OutboundMessage, reason: String, config: BotConfig, org: OrgTree? = nil, tx: any StoreTransaction, now: Date) throws {
        // The org comes through the engine's directory (a root group bound with /绑定 is told too).
        let org = org ?? config.org
        guard !message.key.hasPrefix("dead:"), let root = org.root, let group = root.group else { return }
        let unitName = org.unit(message.unitID)?.name ?? message.unitID
        let text = config.language.pick(
            "⚠️ 消息无法送达 \(unitName)（\(message.group.platform)）：\(reason)。内容：\(TaskTexts.excerpt(message.text, 60))。请检查该群机器人配置。",
            "⚠️ A message could not be delivered to \(unitName) (\(message.group.platform)): \(reason). Text: \(TaskTexts.excerpt(message.text, 60)). Check that group's robot settings."
        )
        let admins = root.members.filter { $0.has(.admin) }
        try tx.enqueue(
            OutboundMessage(
                key: "dead:\(message.key)", unitID: root.id, group: group, text: text,
                mentions: TaskPolicy.mentions(of: admins, platform: group.platform), priority: .urgent), at: now)
        try tx.append(EventRecord(at: now, kind: .outboxDead, unitID: message.unitID, data: ["key": message.key, "reason": reason]))
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
            // An app speaking in many groups also has one window over all of them (DingTalk app robot).
            let shared = adapters[queue[0].message.group.platform]?.sharedRateLimit(for: queue[0].message.group)
            if let shared, windows[shared.key] == nil {
                windows[shared.key] = RateWindow(perMinute: shared.limit.perMinute, perSecond: shared.limit.perSecond)
            }
            for item in digestGroups(queue, merge: queue.count > capacity, limit: digestLimit) {
                let slot = max(window.nextSlot(at: now), shared.flatMap { windows[$0.key]?.nextSlot(at: now) } ?? now)
                if slot <= now {
                    window.record(at: now)
                    if let shared { windows[shared.key]?.record(at: now) }
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

    /// The task, step and unit of a task step's key `task:<id>:step:<n>:<unit>`, else nil.
    public static func taskStep(_ key: String) -> (task: Int, step: Int, unit: String)? {
        let parts = key.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "task", parts[2] == "step", let task = Int(parts[1]), let step = Int(parts[3]) else { return nil }
        return (task, step, String(parts[4]))
    }

    /// Which task steps to drop, and why: the task is no longer open, or (for a reminder, step 0)
    /// the group's first notice of the task is still waiting. Pure.
    public static func stale(
        _ steps: [(OutboxEntry, (task: Int, step: Int, unit: String))], statuses: [Int: TaskStatus],
        waitingNotices: Set<String>
    ) -> [(OutboxEntry, String)] {
        steps.compactMap { entry, step in
            if let status = statuses[step.task], status != .open {
                return (entry, "dropped: task T-\(step.task) is \(status.rawValue)")
            }
            if step.step == 0, waitingNotices.contains("task:\(step.task):notice:\(step.unit)") {
                return (entry, "merged: the first notice of T-\(step.task) to this group is still waiting")
            }
            return nil
        }
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
