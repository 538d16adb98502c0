import Foundation
import GRDB
import LeagueCore
import LeaguePlatforms
import LeagueStore
import LeagueTestSupport
import Testing

/// The whole task loop through the real server on loopback, signed webhooks in, a fake platform out.
@Suite(.serialized)
struct TaskLoopEndToEndTests {
    @Test func dispatchAcknowledgeBreachAndRollCall() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in

            #expect(try await bot.say("@团务助手 ／任务　紧急 @全部 今晚８点前上报青年志愿者人数", in: "chat-d", from: "u-d") == 200)
            try await bot.waitUntil("notices in both town groups and the issuer's reply") { sent in
                sent.contains { $0.group == "chat-t1" } && sent.contains { $0.group == "chat-t2" } && sent.contains { $0.group == "chat-d" }
            }
            let notice = try #require(bot.fake.to("chat-t1").first)
            #expect(notice.text.contains("紧急任务 T-1"))
            #expect(notice.text.contains("今晚8点前上报青年志愿者人数"))
            #expect(notice.mentions == ["u-t1"])
            #expect(bot.fake.to("chat-d").first?.text.contains("到 2 个群") == true)
            #expect(bot.fake.to("chat-g1").isEmpty, "@全部 reaches child units only")

            // A plain 收到 from the first town acknowledges, with no reply into the group.
            #expect(try await bot.say("收到！", in: "chat-t1", from: "u-t1") == 200)
            try await bot.settle()
            #expect(bot.fake.to("chat-t1").count == 1)

            // Past the 3-minute target: one breach notice to the supervisors (the district admins) naming the late town.
            bot.advance(200)
            try await bot.waitUntil("breach notice in the district group") { sent in
                sent.contains { $0.group == "chat-d" && $0.text.contains("超时未确认") }
            }
            let breach = try #require(bot.fake.to("chat-d").first { $0.text.contains("超时未确认") })
            #expect(breach.text.contains("第二街道"))
            #expect(!breach.text.contains("第一街道"))
            #expect(breach.mentions == ["u-d"])
            #expect(bot.fake.to("chat-t2").contains { $0.text.contains("提醒") }, "the late group was reminded at half the target")

            // The late acknowledgement is recorded as late and the supervisors are told it arrived.
            #expect(try await bot.say("已收到 T-1", in: "chat-t2", from: "u-t2") == 200)
            try await bot.waitUntil("late-arrival notice") { sent in
                sent.contains { $0.group == "chat-d" && $0.text.contains("第二街道") && $0.text.contains("超时") && $0.text.contains("已确认") }
            }

            // Roll call.
            try await bot.say("/进度 T-1", in: "chat-d", from: "u-d")
            try await bot.waitUntil("roll call") { $0.contains { $0.group == "chat-d" && $0.text.contains("📋") } }
            let roll = try #require(bot.fake.to("chat-d").last { $0.text.contains("📋") }).text
            #expect(roll.contains("已确认 2/2"))
            #expect(roll.contains("第一街道 街道甲 0秒"))
            #expect(roll.contains("第二街道 街道乙") && roll.contains("（超时）"))
            #expect(roll.contains("第1级升级"))
        }
    }

    @Test func reportEscalatesUpTheChainToTheRootAndStops() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in

            try await bot.say("/上报 紧急 3号楼有独居老人需要帮助", in: "chat-g1", from: "u-g1")
            try await bot.waitUntil("report posted to the community") { $0.contains { $0.group == "chat-c1" && $0.text.contains("紧急上报 T-1") } }
            bot.advance(181)
            try await bot.waitUntil("escalated to the town") { $0.contains { $0.group == "chat-t1" && $0.text.contains("上报未认领") } }
            bot.advance(180)
            try await bot.waitUntil("escalated to the district") { $0.contains { $0.group == "chat-d" && $0.text.contains("上报未认领") } }
            let beforeLater = bot.fake.requests.count
            bot.advance(3600)
            try await bot.settle()
            #expect(bot.fake.requests.count == beforeLater, "nothing repeats after the root has been told")

            // A town cadre the report reached claims it; the reporter's grid is told.
            try await bot.say("/认领 T-1", in: "chat-t1", from: "u-t1")
            try await bot.waitUntil("claim notice to the grid") { $0.contains { $0.group == "chat-g1" && $0.text.contains("已由") && $0.text.contains("认领") } }
            // A sibling grid's cadre cannot claim it (it never reached them) — and it is taken anyway.
            try await bot.say("/认领 T-1", in: "chat-g2", from: "u-g2")
            try await bot.waitUntil("refusal") { $0.contains { $0.group == "chat-g2" && $0.text.contains("T-1") } }
            try await bot.say("/完成 T-1 已联系社区志愿者上门", in: "chat-t1", from: "u-t1")
            try await bot.waitUntil("resolution notice") { $0.contains { $0.group == "chat-g1" && $0.text.contains("已办结") } }
        }
    }

    @Test func duplicateDeliveryIsProcessedOnce() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            #expect(try await bot.say("/任务 周五前报送青年之家活动照片", in: "chat-d", from: "u-d", id: "msg-1") == 200)
            #expect(try await bot.say("/任务 周五前报送青年之家活动照片", in: "chat-d", from: "u-d", id: "msg-1") == 200)
            try await bot.waitUntil("dispatch reply") { $0.contains { $0.group == "chat-d" } }
            try await bot.settle()
            #expect(try await bot.inboundCount() == 1)
            #expect(bot.fake.to("chat-t1").count == 1)
            #expect(bot.fake.to("chat-d").count == 1)
        }
    }

    @Test func aMessageIsProcessedInTheTransactionThatCommitsIt() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            #expect(try await bot.say("/任务 周五前报送青年之家活动照片", in: "chat-d", from: "u-d", id: "msg-atomic") == 200)
            // No waiting: by the time the webhook is answered, the task, its notices and the reply are committed.
            let (processed, task, outbox) = try await bot.store.writer.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbound WHERE message_id = 'msg-atomic' AND processed_at IS NOT NULL") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE id = 1") ?? 0,
                    try Set(String.fetchAll(db, sql: "SELECT chat FROM outbox"))
                )
            }
            #expect(processed == 1 && task == 1)
            #expect(outbox == ["chat-t1", "chat-t2", "chat-d"])
        }
    }

    @Test func badRequestsAreRefusedAndNothingIsStored() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot async throws in
            let now = bot.clock.now().timeIntervalSince1970
            let body = TestBot.body(id: "x1", chat: "chat-d", sender: "u-d", text: "/任务 测试", ts: now)

            #expect(try await bot.say("/任务 测试", in: "chat-d", from: "u-d", secret: "wrong") == 401)
            #expect(try await bot.post(body: body).0 == 401, "missing signature")
            let stale = TestBot.body(id: "x2", chat: "chat-d", sender: "u-d", text: "/任务 测试", ts: now - 600)
            #expect(try await bot.post(body: stale, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: stale, secret: testSecret)]).0 == 401)
            let malformed = Data("{not json".utf8)
            #expect(try await bot.post(body: malformed, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: malformed, secret: testSecret)]).0 == 400)
            let huge = Data(repeating: UInt8(ascii: "a"), count: 70_000)
            #expect(try await bot.post(body: huge, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: huge, secret: testSecret)]).0 == 413)
            #expect(try await bot.post(path: "/webhook/nowhere", body: body).0 == 404)
            #expect(try await bot.say("/任务 测试", in: "chat-unknown", from: "u-d") == 202)
            #expect(try await bot.inboundCount() == 0)
        }
    }

    @Test func aDeadlineDueDuringAnOutageFiresExactlyOnceAfterRestart() async throws {
        let path = try writeTestConfig()
        let first = try await TestBot(configPath: path)
        try await withStopping(first) {
            try await first.say("/任务 紧急 @第二街道 核对网格青年名单", in: "chat-d", from: "u-d")
            try await first.waitUntil("notice") { $0.contains { $0.group == "chat-t2" } }
            try await first.settle()
        }

        // The bot is down across the reminder and the breach.
        first.clock.advance(by: 400)
        try await withLiveBot(configPath: path, store: first.store, clock: first.clock, transport: first.transport) { second in
            try await second.waitUntil("breach after restart") { $0.contains { $0.group == "chat-d" && $0.text.contains("超时未确认") } }
            try await second.settle()
        }

        // And a third start fires nothing again.
        try await withLiveBot(configPath: path, store: first.store, clock: first.clock, transport: first.transport) { third in
            third.advance(1)
            try await third.settle()
        }
        #expect(first.fake.to("chat-d").filter { $0.text.contains("超时未确认") }.count == 1)
        #expect(first.fake.to("chat-t2").filter { $0.text.contains("提醒") }.count == 1)
        let keys = first.fake.requests.map(\.key)
        #expect(Set(keys).count == keys.count, "no idempotency key was sent twice")
    }

    @Test func failingPlatformIsRetriedThenDeadLetteredAndReported() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            bot.fake.fail([.status(500), .status(503)])
            try await bot.say("/任务 @第一街道 测试重试", in: "chat-d", from: "u-d")
            try await bot.advance(5, until: "delivered after two failures", limit: 30) { !bot.fake.to("chat-t1").isEmpty }
            // A permanent failure (400) goes straight to the dead letters and the root's admins are told.
            bot.fake.fail([.status(400)])
            try await bot.say("/任务 @第二街道 测试失败", in: "chat-d", from: "u-d")
            try await bot.waitUntil("dead-letter report") { $0.contains { $0.group == "chat-d" && $0.text.contains("无法送达") } }
        }
    }
}
