import Foundation
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueTestSupport
import Testing

/// Issue 3 item 4: per-robot queues and limits, urgent before routine, digests for a backed-up
/// group, nothing dropped, and the delivery-time estimate for the issuer's reply.
struct PlatformOutboxPlanningTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let adapters: [String: any PlatformAdapter] = [
        "wecom": WeComAdapter(botCrypto: WeComCrypto(token: "t", encodingAESKey: PlatformSecrets.wecomAESKey)!, corpID: "ww"),
        "feishu": FeishuAdapter(verificationToken: "v", encryptKey: nil),
    ]

    func entry(_ id: Int64, robot: String, chat: String? = nil, platform: String = "wecom", priority: Priority = .routine, text: String? = nil) -> OutboxEntry {
        let group = GroupBinding(platform: platform, chat: chat ?? "chat-\(robot)", credentials: ["robot_key": robot, "hook": robot], robot: robot)
        let message = OutboundMessage(key: "m\(id)", unitID: "u", group: group, text: text ?? "消息 \(id)", priority: priority)
        return OutboxEntry(id: id, message: message, state: .pending, attempts: 0, nextAttemptAt: now, createdAt: now, lastError: nil)
    }

    @Test func everyRobotHasItsOwnWindowAndUrgentGoesFirst() {
        // Store order: urgent first, then by age — two robots, 25 urgent each to distinct chats (no digests for urgent).
        let due = (1...25).map { entry($0, robot: "A", chat: "a\($0)", priority: .urgent) } + (26...50).map { entry($0, robot: "B", chat: "b\($0)", priority: .urgent) }
        var windows: [String: RateWindow] = [:]
        let plan = OutboxPlanner.plan(due, windows: &windows, adapters: adapters, now: now)
        let byRobot = Dictionary(grouping: plan.sends, by: { $0.message.group.robotID })
        #expect(byRobot["wecom:A"]?.count == 20, "20 a minute per WeCom robot")
        #expect(byRobot["wecom:B"]?.count == 20, "the other robot has its own window")
        let waiting = plan.postponed.flatMap(\.1)
        #expect(waiting.count == 10)
        #expect(plan.postponed.allSatisfy { $0.0 > now.addingTimeInterval(59) }, "the rest waits for the window")
        #expect(Set(plan.sends.flatMap { $0.entries.map(\.id) } + waiting) == Set(1...50), "nothing dropped")
    }

    @Test func urgentPassesRoutineInOneRobotsQueue() {
        let due = [entry(3, robot: "A", priority: .urgent)] + [entry(1, robot: "A"), entry(2, robot: "A")]
        var windows: [String: RateWindow] = [:]
        let plan = OutboxPlanner.plan(due, windows: &windows, adapters: adapters, now: now)
        #expect(plan.sends.map { $0.entries.map(\.id) } == [[3], [1], [2]], "no backlog: no digest, urgent first")
    }

    @Test func aBackedUpGroupGetsDigestsAndUrgentStaysAlone() {
        let urgent = [entry(100, robot: "A", priority: .urgent, text: "紧急通知")]
        let routine = (1...40).map { entry(Int64($0), robot: "A", text: "例行通知第\($0)条：" + String(repeating: "青", count: 30)) }
        var windows: [String: RateWindow] = [:]
        let plan = OutboxPlanner.plan(urgent + routine, windows: &windows, adapters: adapters, now: now)
        #expect(plan.sends.first?.entries.map(\.id) == [100], "urgent first and alone")
        #expect(plan.sends.first?.message.key == "m100")
        let digests = plan.sends.dropFirst()
        #expect(digests.count < 20, "40 routine messages fit in fewer sends than the window allows")
        #expect(digests.allSatisfy { $0.message.text.utf8.count <= 1800 })
        #expect(digests.allSatisfy { $0.entries.count == 1 || $0.message.key.hasPrefix("digest:") })
        let covered = digests.flatMap { $0.entries.map(\.id) }
        #expect(covered == Array(1...40), "every routine message is in a digest, in order")
        #expect(plan.postponed.isEmpty)
        let first = digests.first
        #expect(first?.message.text.contains("例行通知第1条") == true && first?.message.text.contains("例行通知第2条") == true)
    }

    @Test func routineMessagesToAGroupThatIsNotBackedUpAreNotMerged() {
        let due = (1...5).map { entry(Int64($0), robot: "A") }
        var windows: [String: RateWindow] = [:]
        let plan = OutboxPlanner.plan(due, windows: &windows, adapters: adapters, now: now)
        #expect(plan.sends.count == 5)
        #expect(plan.sends.allSatisfy { !$0.message.key.hasPrefix("digest:") })
    }

    // MARK: Delivery forecast

    func item(_ priority: Priority = .urgent, chat: String = "c", bytes: Int = 100, isNew: Bool = true) -> DeliveryForecast.Item {
        DeliveryForecast.Item(priority: priority, chat: chat, bytes: bytes, notBefore: now, isNew: isNew)
    }

    @Test func fortyFiveUrgentNoticesOnOneRobotTakeTwoMinutes() throws {
        let robot = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, queue: (0..<45).map { _ in item() })
        let last = try #require(DeliveryForecast.lastDelivery([robot], now: now))
        #expect(abs(last.timeIntervalSince(now) - 120.002) < 0.01, "sends 41–45 go in the third minute")
    }

    @Test func eachRobotSendsOnItsOwn() throws {
        let robots = (0..<1154).map { _ in DeliveryForecast.Robot(perMinute: 20, perSecond: nil, queue: [item()]) }
        let last = try #require(DeliveryForecast.lastDelivery(robots, now: now))
        #expect(last == now, "one notice per group robot goes at once")
    }

    @Test func newNoticesQueueBehindWaitingOnesOfTheSamePriorityAndBeforeRoutine() throws {
        let older = (0..<30).map { _ in item(.urgent, isNew: false) }
        let routine = (0..<30).map { index in item(.routine, chat: "r\(index)", isNew: false) }
        let robot = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, queue: routine + older + [item(.urgent)])
        let last = try #require(DeliveryForecast.lastDelivery([robot], now: now))
        #expect(abs(last.timeIntervalSince(now) - 60.001) < 0.01, "the 31st urgent send goes in the second minute, before the routine ones")
    }

    /// Sends read back from the store (seconds since 1970 as a Double) may land a hair after `now`:
    /// they still fill the window. This made the /任务 estimate vanish now and then.
    @Test func sendsStoredAtNowCountEvenWhenTheRoundTripLandsJustAfterIt() throws {
        let roundTripped = Date(timeIntervalSince1970: now.timeIntervalSince1970).addingTimeInterval(2e-7)
        let robot = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, recentSends: Array(repeating: roundTripped, count: 20), queue: [item()])
        let last = try #require(DeliveryForecast.lastDelivery([robot], now: now))
        #expect(last.timeIntervalSince(now) > 59, "the 21st send waits for the window")
        // A send a whole second ahead (the clock stepped back) is not counted.
        let ahead = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, recentSends: Array(repeating: now.addingTimeInterval(1), count: 20), queue: [item()])
        #expect(DeliveryForecast.lastDelivery([ahead], now: now) == now)
    }

    @Test func aPausedRobotStartsWhenThePauseEnds() throws {
        let robot = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, pausedUntil: now.addingTimeInterval(600), queue: [item()])
        #expect(DeliveryForecast.lastDelivery([robot], now: now) == now.addingTimeInterval(600))
    }

    @Test func digestsShortenTheWait() throws {
        let queue = (0..<45).map { _ in item(.routine, chat: "same") }
        let robot = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, queue: queue)
        #expect(DeliveryForecast.lastDelivery([robot], now: now) == now, "45 small routine messages to one group fit in 3 digests")
    }

    @Test func feishuPerSecondLimitCounts() throws {
        let robot = DeliveryForecast.Robot(perMinute: 100, perSecond: 5, queue: (0..<11).map { _ in item() })
        let last = try #require(DeliveryForecast.lastDelivery([robot], now: now))
        #expect(abs(last.timeIntervalSince(now) - 2.002) < 0.01)
    }

    @Test func noNewItemMeansNoEstimate() {
        let robot = DeliveryForecast.Robot(perMinute: 20, perSecond: nil, queue: [item(isNew: false)])
        #expect(DeliveryForecast.lastDelivery([robot], now: now) == nil)
    }

    @Test func forecastFromTheOutboxCountsAStoredRobotPause() throws {
        var waiting = entry(1, robot: "A")
        waiting.nextAttemptAt = now.addingTimeInterval(60)
        let new = entry(2, robot: "A", priority: .urgent)
        let other = entry(3, robot: "B", priority: .urgent)
        let pending = [waiting, new, other].map { entry in
            PendingDelivery(
                key: entry.message.key, platform: entry.message.group.platform, chat: entry.message.group.chat,
                robotID: entry.message.group.robotID, priority: entry.message.priority, bytes: entry.message.text.utf8.count,
                nextAttemptAt: entry.nextAttemptAt, lastError: entry.lastError)
        }
        // The outbox's explicit pause state, not the text of a message's last error, says robot A is paused.
        let pause = RobotPause(
            robotID: waiting.message.group.robotID, platform: "wecom", kind: .rateLimited, until: now.addingTimeInterval(60),
            seconds: 60, since: now, failures: 0, reason: "WeCom errcode 45009")
        let last = try #require(OutboxPlanner.forecast(pending: pending, newKeys: ["m2", "m3"], adapters: adapters, now: now, pauses: [pause]))
        #expect(last == now.addingTimeInterval(60), "the urgent notice waits for robot A's pause, robot B sends at once")
        let unpaused = try #require(OutboxPlanner.forecast(pending: pending, newKeys: ["m2", "m3"], adapters: adapters, now: now))
        #expect(unpaused == now, "without a pause both send at once")
    }

    @Test func forecastCountsSendsAlreadyMadeInTheWindow() throws {
        // DingTalk: 20 a minute. 20 sends in the last 30 s fill the window, so a new notice waits for the first to age out.
        let group = GroupBinding(platform: "dingtalk", chat: "c", credentials: ["robot_token": "R"])
        let pending = [
            PendingDelivery(
                key: "new", platform: "dingtalk", chat: "c", robotID: group.robotID, priority: .urgent, bytes: 10,
                nextAttemptAt: now, lastError: nil)
        ]
        let sent = (0..<20).map { RobotSend(robotID: group.robotID, platform: "dingtalk", at: now.addingTimeInterval(-30 + Double($0))) }
        let dingtalk: [String: any PlatformAdapter] = ["dingtalk": DingTalkAdapter(appSecret: "s")]
        let last = try #require(OutboxPlanner.forecast(pending: pending, newKeys: ["new"], adapters: dingtalk, now: now, recentSends: sent))
        #expect(last.timeIntervalSince(now) > 29 && last.timeIntervalSince(now) < 31, "waits until the window has room: \(last.timeIntervalSince(now))")
        #expect(OutboxPlanner.forecast(pending: pending, newKeys: ["new"], adapters: dingtalk, now: now) == now, "an empty window sends at once")
    }
}
