import Foundation
import HummingbirdWSClient
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueTestSupport
import LeagueTransport
import Logging
import NIOConcurrencyHelpers
import Testing

/// An org on DingTalk: the district and town 1 bound by chat only (the app robot speaks there), town 2
/// with its own custom robot.
let dingTalkOrgYAML = """
    units:
      - {id: d, name: 测试区, tier: district, group: {platform: dingtalk, chat: cid-d}, members: [{id: m-d, name: 区书记, roles: [admin, cadre], ids: {dingtalk: staff-d}}]}
      - {id: t1, name: 第一街道, tier: town, parent: d, group: {platform: dingtalk, chat: cid-t1},
          members: [{id: m-t1, name: 街道甲, roles: [admin, cadre], ids: {dingtalk: staff-t1}}]}
      - {id: t2, name: 第二街道, tier: town, parent: d, group: {platform: dingtalk, chat: cid-t2, robot_token: custom-t2},
          members: [{id: m-t2, name: 街道乙, roles: [admin, cadre], ids: {dingtalk: staff-t2}}]}

    """

/// Runs `body` with a fake DingTalk gateway (its bootstraps scripted with `bootstrap`) and a live
/// `TestBot` in stream mode against it, on an `InstrumentedStore` (no inbound HTTP route in use); stops both.
func withStreamBot(
    bootstrap: [FakeDingTalkGateway.Bootstrap] = [], keepalive: String = "200ms", deadAfter: String = "5s",
    _ body: (FakeDingTalkGateway, TestBot, InstrumentedStore) async throws -> Void
) async throws {
    try await withStarted(FakeDingTalkGateway()) { gateway in
        gateway.scriptBootstrap(bootstrap)
        let path = try writeTestConfig(
            orgYAML: dingTalkOrgYAML, outbox: "{max_attempts: 5, backoff: 100ms, max_backoff: 1s, timeout: 2s}",
            platforms: """
                  dingtalk:
                    mode: stream
                    client_id: \(gateway.clientID)
                    client_secret: \(gateway.clientSecret)
                    api_base_url: \(gateway.baseURL)
                    base_url: \(gateway.baseURL)
                    keepalive: \(keepalive)
                    dead_after: \(deadAfter)
                    timeout: 500ms
                    backoff: 50ms
                """, taskDefaults: false)
        try await withLiveBot(configPath: path, transport: AsyncHTTPClientTransport(), instrumented: true) { bot in
            gateway.changed.relay(to: bot.changed)
            try await body(gateway, bot, try bot.instrumented.orThrow("the instrumented store"))
        }
    }
}

@Suite("DingTalk Stream mode against a scripted gateway", .serialized, .tags(.timed))
struct DingTalkStreamTimedTests {
    @Test func pushIsCommittedThenAckedAndNoticesGoThroughTheAppAndTheCustomRobot() async throws {
        try await withStreamBot(deadAfter: "30s") { gateway, bot, _ in
            try await gateway.waitForSocket()
            let socket = gateway.openSockets[0].id

            try await gateway.ping(on: socket, messageID: "ping-1", opaque: "123-dsfs")
            try await gateway.wait("ping answered with its opaque") { gateway.acks(of: "ping-1").contains { $0.data == #"{"opaque":"123-dsfs"}"# } }

            try await gateway.botMessage(on: socket, messageID: "push-1", msgID: "msg-1", chat: "cid-d", sender: "staff-d", text: "/任务 今晚8点前上报青年志愿者人数")
            try await gateway.wait("push ACKed") { !gateway.acks(of: "push-1").isEmpty }
            #expect(gateway.acks(of: "push-1").first?.code == 200)
            #expect(gateway.acks(of: "push-1").first?.socket == socket)
            // ACK only after commit: the message is in the inbox by the time the ACK is seen.
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE platform = 'dingtalk' AND message_id = 'msg-1'") == 1)

            try await gateway.wait("notices to both towns") {
                gateway.messages.contains { $0.chat == "cid-t1" && $0.content.contains("青年志愿者") }
                    && gateway.messages.contains { $0.chat == "robot:custom-t2" && $0.content.contains("青年志愿者") }
            }
            let viaApp = gateway.messages.first { $0.chat == "cid-t1" }!
            #expect(viaApp.robotCode == gateway.clientID)
            #expect(viaApp.token == "tok-1")
            #expect(bot.connectionState("dingtalk") == "connected")
            let (status, health) = try await loopback("GET", port: bot.port, path: "/healthz")
            #expect(status == 200, "\(health)")
            #expect(health.contains(#""name":"dingtalk","state":"connected""#), "\(health)")
        }
    }

    @Test func bootstrapFailuresBackOffWithAFreshTicketEachTimeAndTicketsAreSingleUse() async throws {
        try await withStreamBot(bootstrap: [.status(500, #"{"code":"ServiceUnavailable","message":"busy"}"#), .status(429, #"{"code":"Throttling","message":"busy"}"#), .hang]) { gateway, bot, _ in
            // 500 → retry, 429 → rate limited (waits ≥ the floor, 5 s), never-answering → time-out after 500 ms, then OK.
            try await gateway.waitForSocket(timeout: 15)
            #expect(gateway.bootstrapCount == 4)
            // The hanging bootstrap was cut by a time-out (the transport's or the supervisor's, whichever fires first).
            let lastError = bot.connection("dingtalk")?.lastError ?? ""
            #expect(lastError.contains("did not answer within 0.5 s") || lastError.contains("DingTalk gateway bootstrap failed"), "\(lastError)")
            // The ticket the bot used cannot be used again.
            let used = gateway.allSockets[0].ticket
            let client = WebSocketClient(url: "ws://127.0.0.1:\(gateway.port)/connect?ticket=\(used)", logger: Logger(label: "reuse")) { _, _, _ in }
            await #expect(throws: (any Error).self) { try await client.run() }
            #expect(gateway.refused.contains(used))
        }
    }

    @Test func fatalBootstrapAnswerStopsRetryingAndDegradesHealthz() async throws {
        try await withStreamBot(bootstrap: [.status(401, #"{"code":"InvalidAuthentication","message":"clientSecret wrong"}"#)]) { gateway, bot, _ in
            try await gateway.wait("the supervisor stops") { bot.connectionState("dingtalk") == "stopped" }
            try await Task.sleep(for: .milliseconds(300))
            #expect(gateway.bootstrapCount == 1, "no retry after a fatal answer")
            let (status, health) = try await loopback("GET", port: bot.port, path: "/healthz")
            #expect(status == 503)
            #expect(health.contains(#""status":"degraded""#) && health.contains("clientSecret wrong"), "\(health)")
        }
    }

    @Test func silentSocketIsDeclaredDeadAndReplacedWithAFreshBootstrap() async throws {
        try await withStreamBot(keepalive: "200ms", deadAfter: "800ms") { gateway, bot, _ in
            try await gateway.waitForSocket()
            // The gateway says nothing on socket 1 (WS pings still get pongs: a zombie socket).
            try await gateway.wait("a second socket", timeout: 5) { gateway.allSockets.count >= 2 }
            // Measured on the gateway's side: socket 1 opened → socket 2 opened (polling adds no error).
            let reconnectAfter = gateway.allSockets[1].openedAt.timeIntervalSince(gateway.allSockets[0].openedAt)
            #expect(reconnectAfter >= 0.8 && reconnectAfter < 3, "reconnected after \(reconnectAfter) s")
            #expect(gateway.bootstrapCount == 2)
            #expect(gateway.allSockets[0].ticket != gateway.allSockets[1].ticket)
            try await gateway.wait("the silent socket is closed") { !gateway.openSockets.contains { $0.id == 1 } }
            // Nothing lost: a push on the new socket is committed and ACKed.
            try await gateway.botMessage(on: 2, messageID: "after-silence", msgID: "msg-after", chat: "cid-t1", sender: "staff-t1", text: "收到")
            try await gateway.wait("ACK on the new socket") { gateway.acks(of: "after-silence").contains { $0.socket == 2 } }
            #expect(bot.connection("dingtalk")?.reconnectsLastHour == 1)
            print("stream reconnect after a silent socket (dead_after 0.8 s): \(String(format: "%.2f", reconnectAfter)) s")
        }
    }

    @Test func disconnectOpensTheNewSocketBeforeClosingTheOldAndTheOldStillAcks() async throws {
        try await withStreamBot(deadAfter: "10s") { gateway, bot, _ in
            try await gateway.waitForSocket()
            try await gateway.disconnect(on: 1)
            // A push that was already on its way on the old socket.
            try await gateway.botMessage(on: 1, messageID: "late-push", msgID: "msg-late", chat: "cid-d", sender: "staff-d", text: "/进度")
            try await gateway.wait("the disconnect is ACKed") { !gateway.acks(of: "dis-1").isEmpty }
            try await gateway.wait("the late push is ACKed on the old socket") { gateway.acks(of: "late-push").contains { $0.socket == 1 } }
            try await gateway.wait("socket 2 open, then socket 1 closed") {
                gateway.allSockets.count == 2 && gateway.openSockets.map(\.id) == [2]
            }
            #expect(bot.connectionState("dingtalk") == "connected")
            #expect(bot.connection("dingtalk")?.reconnectsLastHour == 1)
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'msg-late'") == 1)
        }
    }

    @Test func aPushRedeliveredAfterALostAckHasOneEffect() async throws {
        try await withStreamBot(deadAfter: "10s") { gateway, bot, _ in
            try await gateway.waitForSocket()
            try await gateway.botMessage(on: 1, messageID: "dup-1", msgID: "msg-dup", chat: "cid-d", sender: "staff-d", text: "/任务 紧急 只发一次")
            try await gateway.wait("first ACK") { gateway.acks(of: "dup-1").count == 1 }
            // The gateway did not get the ACK in time (as far as it knows): it pushes the same message again.
            try await gateway.botMessage(on: 1, messageID: "dup-1", msgID: "msg-dup", chat: "cid-d", sender: "staff-d", text: "/任务 紧急 只发一次")
            try await gateway.wait("second ACK") { gateway.acks(of: "dup-1").count == 2 }
            try await gateway.wait("the notice reached town 1") { gateway.messages.contains { $0.chat == "cid-t1" && $0.content.contains("只发一次") } }
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'msg-dup'") == 1)
            #expect(try await bot.count("SELECT COUNT(*) FROM tasks") == 1)
            try await Task.sleep(for: .milliseconds(300))
            #expect(gateway.messages.filter { $0.chat == "cid-t1" && $0.content.contains("只发一次") }.count == 1)
        }
    }

    @Test func aPushWhileTheStoreFailsIsNotAckedAndIsCommittedOnRedelivery() async throws {
        try await withStreamBot(deadAfter: "10s") { gateway, bot, store in
            try await gateway.waitForSocket()
            store.failing.withLockedValue { $0 = true }
            try await gateway.botMessage(on: 1, messageID: "fail-1", msgID: "msg-fail", chat: "cid-t1", sender: "staff-t1", text: "/进度")
            try await gateway.wait("the store refused the push") { store.refusals.withLockedValue { $0 } >= 1 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(gateway.acks(of: "fail-1").isEmpty, "a push that was not committed must not be ACKed")
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'msg-fail'") == 0)
            store.failing.withLockedValue { $0 = false }
            try await gateway.botMessage(on: 1, messageID: "fail-1", msgID: "msg-fail", chat: "cid-t1", sender: "staff-t1", text: "/进度")
            try await gateway.wait("ACK of the redelivery") { gateway.acks(of: "fail-1").count == 1 }
            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE message_id = 'msg-fail'") == 1)
        }
    }
}

/// The whole fault script on one connection (runs serialized with the other stream tests).
extension DingTalkStreamTimedTests {
    /// Silence, a failing store, a lost ACK, a rotation with a push on the old socket: every push is
    /// committed once and ACKed, nothing is lost, nothing processed twice.
    @Test func survivesTheFaultScriptWithNothingLostAndNothingTwice() async throws {
        try await withStreamBot(bootstrap: [.status(500, #"{"code":"ServiceUnavailable","message":"busy"}"#)], keepalive: "200ms", deadAfter: "1500ms") { gateway, bot, store in
            try await gateway.waitForSocket()
            try await gateway.botMessage(on: 1, messageID: "f-1", msgID: "m-1", chat: "cid-d", sender: "staff-d", text: "/任务 第一件")
            try await gateway.wait("ACK 1") { !gateway.acks(of: "f-1").isEmpty }
            // Silence: socket 1 is replaced.
            let silentSince = Date()
            try await gateway.wait("socket 2 after silence", timeout: 15) { gateway.allSockets.count >= 2 && gateway.openSockets.map(\.id) == [2] }
            let reconnect = Date().timeIntervalSince(silentSince)
            // The lost ACK of f-1: redelivered on the new socket.
            try await gateway.botMessage(on: 2, messageID: "f-1", msgID: "m-1", chat: "cid-d", sender: "staff-d", text: "/任务 第一件")
            try await gateway.wait("ACK of the redelivery on socket 2") { gateway.acks(of: "f-1").contains { $0.socket == 2 } }
            // The store fails for one push: not ACKed; redelivered once it recovers.
            store.failing.withLockedValue { $0 = true }
            try await gateway.botMessage(on: 2, messageID: "f-2", msgID: "m-2", chat: "cid-t1", sender: "staff-t1", text: "收到")
            try await gateway.ping(on: 2, messageID: "p-2", opaque: "o")
            try await gateway.wait("ping answered") { !gateway.acks(of: "p-2").isEmpty }
            try await gateway.wait("the store refused f-2") { store.refusals.withLockedValue { $0 } >= 1 }
            #expect(gateway.acks(of: "f-2").isEmpty)
            store.failing.withLockedValue { $0 = false }
            // Rotation, with a push already under way on the old socket and the redelivery of f-2.
            try await gateway.disconnect(on: 2)
            try await gateway.botMessage(on: 2, messageID: "f-2", msgID: "m-2", chat: "cid-t1", sender: "staff-t1", text: "收到")
            try await gateway.botMessage(on: 2, messageID: "f-3", msgID: "m-3", chat: "cid-d", sender: "staff-d", text: "/任务 第二件")
            try await gateway.wait("ACKs of f-2 and f-3") { !gateway.acks(of: "f-2").isEmpty && !gateway.acks(of: "f-3").isEmpty }
            try await gateway.wait("socket 3 open, socket 2 closed", timeout: 15) { gateway.openSockets.map(\.id) == [3] }
            try await gateway.botMessage(on: 3, messageID: "f-4", msgID: "m-4", chat: "cid-d", sender: "staff-d", text: "/进度")
            try await gateway.wait("ACK 4") { !gateway.acks(of: "f-4").isEmpty }

            #expect(try await bot.count("SELECT COUNT(*) FROM inbound WHERE platform = 'dingtalk'") == 4, "every push committed once")
            #expect(try await bot.count("SELECT COUNT(*) FROM tasks") == 2, "two /任务, each processed once")
            try await gateway.wait("both tasks reached town 1 through the app, once each") {
                gateway.messages.filter { $0.chat == "cid-t1" && ($0.content.contains("第一件") || $0.content.contains("第二件")) }.count == 2
            }
            #expect(gateway.bootstrapCount == 4, "500, then one bootstrap per socket")
            print("stream fault script: reconnect after a silent socket \(String(format: "%.2f", reconnect)) s (dead_after 1.5 s), pushes lost: 0, processed twice: 0")
        }
    }
}

@Suite("DingTalk app robot: access token cache, errors, mentions")
struct DingTalkAppTests {
    @Test func tokenIsFetchedOnceCachedAndRefreshedBeforeExpiryOrAfterA401() async throws {
        try await withStarted(FakeDingTalkGateway()) { gateway in
            let clock = ManualClock(Date())
            let app = DingTalkApp(clientID: gateway.clientID, clientSecret: gateway.clientSecret, robotCode: gateway.clientID, apiBaseURL: gateway.baseURL)
            let transport = DingTalkAppTokenTransport(base: AsyncHTTPClientTransport(), app: app, clock: clock, refreshBefore: 300)
            let adapter = DingTalkAdapter(appSecret: gateway.clientSecret, app: app)
            func send(_ text: String) async throws -> DeliveryOutcome {
                let message = OutboundMessage(key: text, unitID: "t1", group: GroupBinding(platform: "dingtalk", chat: "cid-t1"), text: text)
                return adapter.classify(try await transport.send(try adapter.encode(message, now: clock.now()), timeout: 5))
            }
            #expect(try await send("一") == .delivered)
            #expect(try await send("二") == .delivered)
            #expect(gateway.tokensIssued == 1)
            clock.advance(by: 7200 - 299)
            #expect(try await send("三") == .delivered)
            #expect(gateway.tokensIssued == 2, "refreshed shortly before expiry")
            gateway.expireTokens()
            guard case .retryLater = try await send("四") else { Issue.record("an expired token is retried"); return }
            #expect(try await send("四") == .delivered)
            #expect(gateway.tokensIssued == 3)
            #expect(gateway.messages.map(\.content) == ["一", "二", "三", "四"])
        }
    }

    @Test func appAnswersAreClassified() {
        func outcome(_ status: Int, _ body: String) -> DeliveryOutcome { DingTalkAdapter(appSecret: "s").classify(OutboundResponse(status: status, body: Data(body.utf8))) }
        #expect(outcome(200, #"{"processQueryKey":"abc"}"#) == .delivered)
        #expect(outcome(429, #"{"code":"Throttling.Api","message":"too fast"}"#) == .rateLimited(retryAfter: nil, "DingTalk app HTTP 429 Throttling.Api: too fast"))
        guard case .retryLater = outcome(401, #"{"code":"InvalidAuthentication","message":"token"}"#) else { Issue.record("401 retried"); return }
        guard case .retryLater = outcome(503, #"{"code":"ServiceUnavailable","message":"x"}"#) else { Issue.record("5xx retried"); return }
        guard case .permanentFailure = outcome(403, #"{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"no qyapi_robot_sendmsg"}"#) else { Issue.record("403 permanent"); return }
        guard case .permanentFailure = outcome(400, #"{"code":"invalidParameter.openConversationId","message":"robot not in group"}"#) else { Issue.record("400 permanent"); return }
        // The custom robot's answers keep their meaning.
        #expect(outcome(200, #"{"errcode":0,"errmsg":"ok"}"#) == .delivered)
    }

    @Test func mentionsThroughTheAppAreWrittenAsNamesInTheText() throws {
        let app = DingTalkApp(clientID: "k", clientSecret: "s", robotCode: "k", apiBaseURL: "https://api.dingtalk.com")
        let message = OutboundMessage(
            key: "k", unitID: "t1", group: GroupBinding(platform: "dingtalk", chat: "cid-t1"), text: "请 @街道甲 确认",
            mentions: [
                Mention(memberID: "m-t1", name: "街道甲", userID: "staff-t1", mobile: nil),
                Mention(memberID: "m-x", name: "网格员一", userID: "staff-x", mobile: nil),
            ])
        let request = try app.encode(message)
        let body = try JSONSerialization.jsonObject(with: request.body) as! [String: Any]
        #expect(body["msgKey"] as? String == "sampleText")
        #expect(body["openConversationId"] as? String == "cid-t1")
        let param = try JSONSerialization.jsonObject(with: Data((body["msgParam"] as! String).utf8)) as! [String: Any]
        #expect(param["content"] as? String == "请 @街道甲 确认\n@网格员一")
        #expect(request.headers[DingTalkApp.tokenHeader] == DingTalkApp.tokenPlaceholder)
    }

    @Test func appSendsShareOneWindowPerAppAndOnePerChat() {
        let adapter = DingTalkAdapter(appSecret: "s", app: DingTalkApp(clientID: "k", clientSecret: "s", robotCode: "k", apiBaseURL: "https://api.dingtalk.com"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let due = (1...25).map { i in
            OutboxEntry(
                id: Int64(i), message: OutboundMessage(key: "m\(i)", unitID: "u\(i)", group: GroupBinding(platform: "dingtalk", chat: "cid-\(i)"), text: "通知"),
                state: .pending, attempts: 0, nextAttemptAt: now, createdAt: now, lastError: nil)
        }
        var windows: [String: RateWindow] = [:]
        let plan = OutboxPlanner.plan(due, windows: &windows, adapters: ["dingtalk": adapter], now: now)
        #expect(plan.sends.count == 20, "the app's 20 calls a second")
        #expect(plan.postponed.flatMap { $0.1 }.count == 5)
        // A group with its own custom robot is not counted against the app.
        let custom = OutboxEntry(
            id: 99, message: OutboundMessage(key: "c", unitID: "t2", group: GroupBinding(platform: "dingtalk", chat: "cid-t2", credentials: ["robot_token": "t"]), text: "通知"),
            state: .pending, attempts: 0, nextAttemptAt: now, createdAt: now, lastError: nil)
        let second = OutboxPlanner.plan([custom], windows: &windows, adapters: ["dingtalk": adapter], now: now)
        #expect(second.sends.count == 1)
    }
}

@Suite("leagueops check: inbound mode and send path per group")
struct SendPathsTests {
    func config(_ dingtalk: String) throws -> BotConfig {
        try ConfigLoader.load(path: try writeTestConfig(orgYAML: dingTalkOrgYAML, platforms: "  dingtalk: \(dingtalk)", taskDefaults: false))
    }

    @Test func streamModeSendsChatOnlyGroupsThroughTheAppAndKeepsCustomRobots() throws {
        let report = SendPaths.report(config: try config("{mode: stream, client_id: k, client_secret: s}"))
        #expect(report.problems.isEmpty)
        #expect(
            report.lines == [
                "dingtalk: inbound over Stream mode (the bot connects out; no public address needed)",
                "dingtalk: 1 group sent through its custom robot (robot_token)",
                "dingtalk: 2 groups sent through the app robot (OpenAPI group messages)",
            ])
    }

    @Test func webhookModeNamesTheGroupsNoPathReaches() throws {
        let report = SendPaths.report(config: try config("{app_secret: s}"))
        #expect(report.problems.count == 2)
        #expect(report.problems[0].contains("unit d (测试区) is bound to DingTalk chat cid-d without robot_token"))
        #expect(report.problems[0].contains("set platforms.dingtalk.mode: stream"))
    }
}
