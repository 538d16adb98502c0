import Foundation
import GRDB
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import LeagueTransport
import Testing

/// Issue 10, the outbox and /healthz: outages lose nothing, one robot stalls nobody, rate windows
/// and pauses survive restarts and clock steps, rows that no longer decode are put aside.
@Suite(.serialized)
struct OutboxReliabilityTests {
    /// The DingTalk app robot's platform entry, sending to the fake platform.
    static func dingtalkApp(_ api: FakePlatform) -> String {
        "  dingtalk: {app_secret: \(PlatformSecrets.dingtalkAppSecret), base_url: \(api.baseURL), bot_name: 团务助手}"
    }

    // MARK: Point 1: outages

    /// The acceptance test: a 10-minute platform outage, accelerated on the manual clock. Every
    /// notice is delivered after recovery, none is dead although each was tried more than
    /// `max_attempts` times, and /healthz is 503 during the outage and 200 after.
    @Test func aTenMinuteOutageLosesNothingAndHealthSaysSo() async throws {
        let transport = FakeTransport()
        transport.failAlways(true)
        try await withLiveBot(configPath: try writeTestConfig(), transport: transport) { bot in  // max_attempts: 3, max_backoff: 4s
            #expect(try await bot.send("/任务 紧急 @全部 停电演练", in: "chat-d", from: "u-d").0 == 200)
            #expect(try await bot.request("GET", "/healthz").0 == 200, "a fresh outage is not yet degraded")
            try await bot.settle()  // the first tries fail at the start: the outage is counted from there
            var degradedDuring: Set<String> = []
            for step in 1...61 {  // 61 × 10 s of simulated time: the outage lasts a little over 10 minutes
                bot.advance(10)
                try await bot.settle()
                if step == 35 || step == 61 {
                    let (status, body) = try await bot.request("GET", "/healthz")
                    #expect(status == 503, "degraded during the outage: \(body)")
                    for code in ["pending_age", "robot_paused", "dead_letters"] where body.contains("\"\(code):") { degradedDuring.insert(code) }
                }
            }
            #expect(degradedDuring.contains("pending_age") && degradedDuring.contains("robot_paused"), "\(degradedDuring)")
            #expect(!degradedDuring.contains("dead_letters"))
            let notice = "task:1:notice:t1"
            let tried = try await bot.count("SELECT attempts FROM outbox WHERE key = '\(notice)'")
            #expect(tried > 3, "tried more than max_attempts times: \(tried)")
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'dead'") == 0, "nothing dead after 10 minutes")
            let outageAttempts = transport.attemptCount
            // The breaker keeps a failing robot to about one try per backoff, not its whole queue each round.
            let robots = try await bot.count("SELECT COUNT(DISTINCT robot_id) FROM outbox")
            #expect(outageAttempts <= robots * (600 / 4 + 2), "\(outageAttempts) attempts for \(robots) robots")

            transport.failAlways(false)
            let recovered = bot.clock.now()
            try await bot.advance(1, until: "every notice delivered after recovery") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE state != 'sent'") == 0
            }
            let drained = bot.clock.now().timeIntervalSince(recovered)
            #expect(drained <= 10, "the backlog drained \(drained) s after recovery (max_backoff 4 s)")
            print("outage figures: \(tried) tries of one notice, \(outageAttempts) attempts in all over 610 s, \(transport.keys.count) messages delivered \(Int(drained)) s after recovery")
            #expect(Set(transport.keys).isSuperset(of: ["task:1:notice:t1", "task:1:notice:t2"]))
            #expect(Dictionary(grouping: transport.keys, by: { $0 }).allSatisfy { $0.value.count == 1 }, "nothing delivered twice")
            let (status, body) = try await bot.request("GET", "/healthz")
            #expect(status == 200 && body.contains("\"status\":\"ok\"") && body.contains("\"reasons\":[]"), "\(body)")
            #expect(try await bot.count("SELECT COUNT(*) FROM robot_pauses") == 0, "every robot's breaker closed again")
        }
    }

    @Test func aMessageIsGivenUpOnlyWhenOlderThanGiveUpAfter() async throws {
        let transport = FakeTransport()
        transport.failAlways(true)
        let path = try writeTestConfig(outbox: "{max_attempts: 3, backoff: 1s, max_backoff: 4s, timeout: 2s, give_up_after: 2m}")
        try await withLiveBot(configPath: path, transport: transport) { bot in
            #expect(try await bot.send("/任务 @t1 放弃演练", in: "chat-d", from: "u-d").0 == 200)
            try await bot.advance(5, until: "the notice is dead once 2 minutes old") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:notice:t1' AND state = 'dead'") == 1
            }
            #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:notice:t1' AND sent_at - created_at >= 120 AND attempts >= 3") == 1)
            let (status, body) = try await bot.request("GET", "/healthz")
            #expect(status == 503 && body.contains("\"dead_letters:"), "a dead letter in the last 24 h degrades /healthz: \(body)")
        }
    }

    @Test func anAnswerThePlatformDocumentsAsPermanentIsDeadAtOnce() async throws {
        let transport = FakeTransport()
        transport.fail([.status(404)])
        try await withLiveBot(configPath: try writeTestConfig(), transport: transport) { bot in
            #expect(try await bot.send("/任务 @t1 机器人已移除", in: "chat-d", from: "u-d").0 == 200)
            try await bot.wait("one message is dead after one try, without moving the clock") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND attempts = 1") == 1
            }
        }
    }

    @Test func theGiveUpPolicyIsPure() {
        let policy = RetryPolicy(maxAttempts: 8, backoff: 1, maxBackoff: 300, giveUpAfter: 86_400)
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(policy.delay(afterFailures: 1) == 1 && policy.delay(afterFailures: 4) == 8 && policy.delay(afterFailures: 30) == 300)
        #expect(
            policy.decide(attempts: 50, createdAt: created, now: created.addingTimeInterval(3_600)) == .retry(at: created.addingTimeInterval(3_900)),
            "many tries within a day: retried, at most max_backoff apart")
        #expect(policy.decide(attempts: 3, createdAt: created, now: created.addingTimeInterval(90_000)) != .giveUp, "fewer than max_attempts tries")
        #expect(policy.decide(attempts: 8, createdAt: created, now: created.addingTimeInterval(86_400)) == .giveUp)
    }

    // MARK: /healthz semantics (pure)

    @Test func thePendingAgeLimitIsNeverLessThanTheRateLimitsNeed() {
        let backlog = [
            OutboxHealth.Backlog(platform: "dingtalk", robotID: "dingtalk:a", pending: 130),
            OutboxHealth.Backlog(platform: "generic", robotID: "generic:b", pending: 5000),
        ]
        let limits = ["dingtalk": RateLimit(perMinute: 20), "generic": RateLimit.unlimited]
        #expect(Auditor.pendingAgeLimit(backlog, configured: 300, limits: limits) == 420, "130 at 20 a minute need 7 minutes")
        #expect(Auditor.pendingAgeLimit(Array(backlog.prefix(0)), configured: 300, limits: limits) == 300)
    }

    @Test func aRobotPausedOverTenMinutesDegradesOnlyWhileItIsStillPausedOrHasWork() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let pause = RobotPause(
            robotID: "wecom:k", platform: "wecom", kind: .failing, until: now.addingTimeInterval(-5), seconds: 300,
            since: now.addingTimeInterval(-700), failures: 6, reason: "HTTP 502")
        var outbox = OutboxHealth()
        outbox.pauses = [pause]
        #expect(Auditor.reasons(health: StoreHealth(), outbox: outbox, pendingAgeLimit: 300, now: now).isEmpty, "nothing waits on it")
        outbox.backlog = [.init(platform: "wecom", robotID: "wecom:k", pending: 2)]
        #expect(Auditor.reasons(health: StoreHealth(), outbox: outbox, pendingAgeLimit: 300, now: now).map(\.code) == ["robot_paused"])
        outbox.pauses[0].since = now.addingTimeInterval(-500)
        #expect(Auditor.reasons(health: StoreHealth(), outbox: outbox, pendingAgeLimit: 300, now: now).isEmpty, "under 10 minutes")
    }

    // MARK: Point 2: robots isolated

    /// One robot's platform accepts the connection and never answers. An urgent notice to another
    /// group is delivered as fast as without it, and the black-holed robot is tried once per pause,
    /// not its whole batch.
    @Test func aBlackHoledRobotDoesNotDelayAnUrgentFanOutToOtherGroups() async throws {
        try await withStarted(FakePlatform()) { platform in
            platform.blackHole(["chat-t1"])
            let path = try writeTestConfig(outbox: "{max_attempts: 3, backoff: 1s, max_backoff: 4s, timeout: 3s}", outboundPort: platform.port)
            try await withLiveBot(configPath: path, transport: AsyncHTTPClientTransport()) { bot in
                func attemptsToT1() -> Int { platform.requests.filter { $0.group == "chat-t1" }.count }
                for index in 1...3 {
                    #expect(try await bot.send("/任务 @t1 例行事项\(index)", in: "chat-d", from: "u-d").0 == 200)
                }
                try await platform.wait("the issuer's replies and one send into the black hole", timeout: 10) {
                    $0.filter { $0.group == "chat-d" }.count >= 3 && $0.contains { $0.group == "chat-t1" }
                }
                let start = Date()
                #expect(try await bot.send("/任务 紧急 @t2 紧急通知", in: "chat-d", from: "u-d").0 == 200)
                try await platform.wait("the urgent notice to t2", timeout: 10) { $0.contains { $0.key == "task:4:notice:t2" } }
                let elapsed = Date().timeIntervalSince(start)
                #expect(elapsed < 1.5, "the urgent notice took \(elapsed) s while another robot hung")
                // After the time-out the breaker is open: the rest of t1's batch waits, without an attempt.
                try await bot.wait("the black-holed robot is paused", timeout: 10) {
                    try await bot.count("SELECT COUNT(*) FROM robot_pauses WHERE robot_id = 'generic:chat-t1' AND kind = 'failing'") == 1
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(attemptsToT1() == 1, "not the whole batch: \(attemptsToT1()) sends")
                #expect(try await bot.count("SELECT COUNT(*) FROM outbox WHERE chat = 'chat-t1' AND attempts = 0 AND state = 'pending'") == 2)
            }
        }
    }

    // MARK: Point 6: restarts and clock steps keep limits

    /// DingTalk allows 20 messages a minute per robot. 15 go out, the bot restarts, 15 more are
    /// queued: only 5 may leave before the first minute is over.
    @Test func aRestartMidBurstKeepsDingTalksPerMinuteLimit() async throws {
        let clock = ManualClock(Date())
        try await withStarted(FakePlatform(clock: clock)) { api in
            // 30 groups sharing one DingTalk robot, in a tier without deliberation reminders (issue 11: bindings and credentials come from org.yaml at send time).
            let shared = (1...30).map {
                """
                  - {id: dg\($0), name: 钉钉单位\($0), tier: town, parent: d, group: {platform: dingtalk, chat: cid-\($0), robot_token: tok-shared, robot_secret: SEC-shared}}

                """
            }.joined()
            let path = try writeTestConfig(orgYAML: testOrgYAML + shared, morePlatforms: Self.dingtalkApp(api))
            api.expectSecret("SEC-shared", for: "tok-shared")
            func enqueue(_ bot: TestBot, _ range: ClosedRange<Int>) async throws {
                let now = bot.clock.now()
                let org = bot.app.engine.config.org
                try await bot.store.write { tx in
                    for index in range {
                        let group = org.unit("dg\(index)")!.group!
                        try tx.enqueue(OutboundMessage(key: "burst:\(index)", unitID: "dg\(index)", group: group, text: "通知 \(index)", priority: .urgent), at: now)
                    }
                }
                bot.app.wakeAll()
            }
            try await withLiveBot(configPath: path, transport: AsyncHTTPClientTransport()) { first in
                try await enqueue(first, 1...15)
                try await first.wait("15 sent") { api.delivered(to: "tok-shared").count == 15 }
            }

            try await withLiveBot(configPath: path, transport: AsyncHTTPClientTransport()) { second in
                second.advance(5)
                try await enqueue(second, 16...30)
                try await second.wait("the window's remaining 5 sent") { api.delivered(to: "tok-shared").count >= 20 }
                for _ in 0..<10 {
                    second.advance(2)
                    try await second.settle()
                }
                #expect(api.delivered(to: "tok-shared").count == 20, "no 21st message within the minute: \(api.delivered(to: "tok-shared").count)")
                try await second.advance(5, until: "the rest after the minute") { api.delivered(to: "tok-shared").count == 30 }
            }
        }
    }

    /// A DingTalk robot has sent its 20 messages of this minute: the reply to a new task says the
    /// notice is queued and when it should arrive (it used to give no estimate, the window being in memory).
    @Test func theTaskReplysEstimateCountsSendsAlreadyMadeInTheWindow() async throws {
        let clock = ManualClock(Date())
        try await withStarted(FakePlatform(clock: clock)) { api in
            let org = """
                units:
                  - {id: d, name: 测试区, tier: district, group: {platform: generic, chat: chat-d}, members: [{id: m-d, name: 区书记, roles: [admin, cadre], ids: {generic: u-d}}]}
                  - {id: t1, name: 第一街道, tier: town, parent: d, group: {platform: dingtalk, chat: cid-t1, robot_token: tok-shared, robot_secret: SEC-shared},
                      members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {dingtalk: staff-t1}}]}

                """
            let path = try writeTestConfig(orgYAML: org, morePlatforms: Self.dingtalkApp(api))
            api.expectSecret("SEC-shared", for: "tok-shared")
            try await withLiveBot(configPath: path, transport: AsyncHTTPClientTransport()) { bot in
                let now = bot.clock.now()
                // The town's group exactly as the config loader built it (its robot alias, not the token).
                let group = try #require(bot.app.engine.org.unit("t1")?.group)
                try await bot.store.write { tx in
                    for index in 1...20 {
                        try tx.enqueue(OutboundMessage(key: "earlier:\(index)", unitID: "t1", group: group, text: "通知 \(index)", priority: .urgent), at: now)
                    }
                }
                try await bot.wait("the window's 20 sent") { api.delivered(to: "tok-shared").count == 20 }
                try await bot.wait("the 20 sends recorded and marked sent") {
                    try await bot.count("SELECT COUNT(*) FROM outbox WHERE key LIKE 'earlier:%' AND state = 'sent'") == 20
                }
                #expect(try await bot.send("/任务 紧急 @t1 窗口已满", in: "chat-d", from: "u-d").0 == 200)
                let key =
                    try await bot.store.writer.read { db in
                        try String.fetchOne(db, sql: "SELECT key FROM outbox WHERE chat = 'chat-d' AND key LIKE 'in:%:reply' ORDER BY id LIMIT 1")
                    } ?? ""
                let reply = try await bot.store.read { try $0.outbox(key: key)?.message.text } ?? ""
                #expect(reply.contains("⏳") && reply.contains("预计"), "the reply gives an estimate: \(reply)")
            }
        }
    }

    /// The wall clock steps back an hour while a notice waits for its retry: it is still sent
    /// within seconds, not an hour later.
    @Test func aBackwardClockStepDoesNotStallARobot() async throws {
        let transport = FakeTransport()
        transport.failAlways(true)
        try await withLiveBot(configPath: try writeTestConfig(), transport: transport) { bot in
            #expect(try await bot.send("/任务 @t1 时钟回拨", in: "chat-d", from: "u-d").0 == 200)
            try await bot.wait("a first failed try") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:notice:t1' AND attempts >= 1 AND state = 'pending'") == 1
            }
            bot.clock.set(bot.clock.now().addingTimeInterval(-3600))
            // A step back reaches no sleeper's deadline; the services notice it within `maxSleep` (real
            // time): ring them instead of waiting for that.
            bot.app.wakeAll()
            transport.failAlways(false)
            try await bot.advance(1, until: "the notice delivered after the step", limit: 60) { transport.keys.contains("task:1:notice:t1") }
        }
    }

    // MARK: Point 4: stale steps

    /// A reminder waits out an outage; the task is cancelled meanwhile: the reminder is never sent.
    @Test func aReminderForATaskCancelledBeforeItIsSentIsDropped() async throws {
        let transport = FakeTransport()
        try await withLiveBot(configPath: try writeTestConfig(), transport: transport) { bot in
            #expect(try await bot.send("/任务 @t1 撤销前的提醒", in: "chat-d", from: "u-d").0 == 200)
            try await bot.wait("the first notice delivered") { transport.keys.contains("task:1:notice:t1") }
            transport.failAlways(true)
            // Routine target 10 min, reminder at half of it.
            try await bot.advance(30, until: "the reminder tried during the outage") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:step:0:t1' AND attempts >= 1") == 1
            }
            #expect(try await bot.send("/撤销 T-1", in: "chat-d", from: "u-d").0 == 200)
            transport.failAlways(false)
            try await bot.advance(5, until: "the reminder dropped") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:step:0:t1' AND dropped_reason LIKE 'dropped: task T-1 is cancelled%'") == 1
            }
            #expect(!transport.keys.contains("task:1:step:0:t1"))
        }
    }

    /// The platform is down from the start: when it recovers, the group gets the task once, not
    /// the task and its reminder in the same second.
    @Test func aReminderForAGroupWhoseFirstNoticeIsStillWaitingIsMergedIntoIt() async throws {
        let transport = FakeTransport()
        transport.failAlways(true)
        try await withLiveBot(configPath: try writeTestConfig(), transport: transport) { bot in
            #expect(try await bot.send("/任务 @t1 合并提醒", in: "chat-d", from: "u-d").0 == 200)
            try await bot.advance(30, until: "the reminder merged") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:step:0:t1' AND dropped_reason LIKE 'merged:%'") == 1
            }
            transport.failAlways(false)
            try await bot.advance(5, until: "everything settled") {
                try await bot.count("SELECT COUNT(*) FROM outbox WHERE state != 'sent'") == 0
            }
            #expect(transport.keys.filter { $0.hasPrefix("task:1:") && $0.hasSuffix(":t1") } == ["task:1:notice:t1"])
        }
    }

    @Test func onlyTaskStepsAreCheckedForStaleness() {
        #expect(OutboxPlanner.taskStep("task:12:step:0:jfl")! == (12, 0, "jfl"))
        #expect(OutboxPlanner.taskStep("task:12:notice:jfl") == nil && OutboxPlanner.taskStep("delib:2026-11:missing:x") == nil)
    }

    // MARK: Point 8: poison rows

    @Test func anUndecodableRowIsPutAsideAsDeadAndTheRestIsSent() async throws {
        try await withLiveBot(configPath: try writeTestConfig(), transport: FakeTransport()) { bot in
            let now = bot.clock.now().timeIntervalSince1970
            try await bot.store.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO outbox (key, unit_id, platform, chat, robot_id, priority, payload, text_bytes, state, next_attempt_at, created_at)
                        VALUES ('poison', 't1', 'generic', 'chat-t1', 'generic:chat-t1', 0, x'00ff7b', 3, 'pending', ?, ?)
                        """, arguments: [now - 1, now - 1])
            }
            #expect(try await bot.send("/任务 @t1 之后的通知", in: "chat-d", from: "u-d").0 == 200)
            try await bot.wait("the poison row is dead with its reason and the notice sent") {
                let dead = try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'poison' AND state = 'dead' AND last_error LIKE 'undecodable payload%'")
                let sent = try await bot.count("SELECT COUNT(*) FROM outbox WHERE key = 'task:1:notice:t1' AND state = 'sent'")
                return dead == 1 && sent == 1
            }
            let (status, body) = try await bot.request("GET", "/healthz")
            #expect(status == 503 && body.contains("\"undecodable_outbox\":1"), "\(body)")
        }
    }
}
