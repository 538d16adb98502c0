import Foundation
import LeagueCore
import LeaguePlatforms
import LeagueStore
import LeagueTestSupport
import Testing

/// Hostile requests through the real HTTP route, on every platform: each gets a clear 4xx and
/// nothing is stored (checked in the store). A valid message per platform at the end of each test
/// proves the count would have moved. (401 / 400 / 413 / 404 / 202 for the generic webhook are in
/// TaskLoopEndToEndTests; decoder-level shapes in the fuzz targets.)
@Suite(.serialized)
struct BadInputTests {
    /// WeCom grid g1 under DingTalk community c1 under Feishu town t1.
    static let orgYAML = PlatformMixedTreeTests.orgYAML

    /// One valid message per platform; every one must be stored.
    func expectValidMessagesAreStored(_ bot: PlatformBot, before: Int) async throws {
        #expect(try await bot.wecom("@团务助手 /进度", chat: "wrchat-g1", from: "wx-g1") == 200)
        #expect(try await bot.dingtalk("/进度", conversation: "cid-c1", from: "staff-c1") == 200)
        #expect(try await bot.feishu("@bot /进度", chat: "oc_t1", from: "ou_t1") == 200)
        #expect(try await bot.store.rowCount("inbound") == before + 3)
    }

    func query(_ items: [(String, String)]) -> String {
        "?" + items.map { "\($0)=\($1)" }.joined(separator: "&")
    }

    @Test func wecomXMLWithADoctypeOrEntityExpansionIsRefused() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            var entities = #"<!ENTITY lol "lol">"#
            for level in 1...9 {
                entities += "<!ENTITY lol\(level) \"\(String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10))\">"
            }
            let message = "<xml><FromUserName>wx-g1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
            let laughs = #"<?xml version="1.0"?><!DOCTYPE xml ["# + entities + "]>" + message

            // The billion laughs as the decrypted message, and an undeclared entity without a DOCTYPE.
            for plaintext in [laughs, message] {
                let (items, body) = try bot.wecomSigned(Data(plaintext.utf8), app: true)
                let (status, reason) = try await bot.post("/webhook/wecom-app" + query(items), body: body)
                #expect(status == 400)
                #expect(reason == "bad request\n", "a generic answer; the detail is in the log: \(reason)")
            }
            // The DOCTYPE in the outer envelope, before the signature is even checked.
            let (items, envelope) = try bot.wecomSigned(Data(message.utf8), app: true)
            let outer = Data((#"<?xml version="1.0"?><!DOCTYPE xml ["# + entities + "]>").utf8) + envelope
            let (status, reason) = try await bot.post("/webhook/wecom-app" + query(items), body: outer)
            #expect(status == 400)
            #expect(reason == "bad request\n", "a generic answer; the detail is in the log: \(reason)")

            #expect(try await bot.store.rowCount("inbound") == 0)
            try await expectValidMessagesAreStored(bot, before: 0)
        }
    }

    @Test func missingAndRepeatedSignaturesAndTimestampsAreRefusedOnEveryPlatform() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            var answers: [(String, Int, Int)] = []  // what, expected, got

            // WeCom signs in the query: msg_signature, timestamp, nonce.
            let (items, body) = try bot.wecomSigned(try bot.wecomMessage("@团务助手 /进度", chat: "wrchat-g1", from: "wx-g1"))
            for name in ["msg_signature", "timestamp"] {
                let without = items.filter { $0.0 != name }
                answers.append(("wecom without \(name)", 400, try await bot.post("/webhook/wecom" + query(without), body: body).0))
                let twice = items + items.filter { $0.0 == name }
                answers.append(("wecom with \(name) twice", 400, try await bot.post("/webhook/wecom" + query(twice), body: body).0))
            }

            // DingTalk: timestamp and sign headers.
            let dingtalkBody = try bot.dingtalkMessage("/进度", conversation: "cid-c1", from: "staff-c1")
            let dingtalkHeaders = bot.dingtalkSignedHeaders()
            for name in ["timestamp", "sign"] {
                let without = dingtalkHeaders.filter { $0.key != name }
                answers.append(("dingtalk without \(name)", 401, try await bot.post("/webhook/dingtalk", body: dingtalkBody, headers: without).0))
                let again = [(name, dingtalkHeaders[name] ?? "")]
                answers.append(("dingtalk with \(name) twice", 400, try await bot.post("/webhook/dingtalk", body: dingtalkBody, headers: dingtalkHeaders, repeatedHeaders: again).0))
            }

            // Feishu: X-Lark-Signature with its timestamp and nonce.
            let (feishuBody, feishuHeaders) = try bot.feishuSigned(try bot.feishuEvent("@bot /进度", chat: "oc_t1", from: "ou_t1"))
            for name in ["X-Lark-Signature", "X-Lark-Request-Timestamp"] {
                let without = feishuHeaders.filter { $0.key != name }
                answers.append(("feishu without \(name)", 401, try await bot.post("/webhook/feishu", body: feishuBody, headers: without).0))
                let again = [(name, feishuHeaders[name] ?? "")]
                answers.append(("feishu with \(name) twice", 400, try await bot.post("/webhook/feishu", body: feishuBody, headers: feishuHeaders, repeatedHeaders: again).0))
            }

            // Generic: the signature header twice (missing is in TaskLoopEndToEndTests).
            let generic = TestBot.body(id: "g-1", chat: "oc_t1", sender: "ou_t1", text: "/进度", ts: bot.clock.now().timeIntervalSince1970)
            let signature = GenericAdapter.signature(body: generic, secret: testSecret)
            let repeated = [("X-LeagueOps-Signature", signature), ("X-LeagueOps-Signature", signature)]
            answers.append(("generic with the signature twice", 400, try await bot.post("/webhook/generic", body: generic, repeatedHeaders: repeated).0))

            for (what, expected, got) in answers { #expect(got == expected, "\(what)") }
            #expect(try await bot.store.rowCount("inbound") == 0)
            try await expectValidMessagesAreStored(bot, before: 0)
        }
    }

    @Test func invalidUTF8AndDeeplyNestedJSONAreRefusedOnEveryPlatform() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            let deep = Data((#"{"msgtype":"text","text":{"content":"/进度"},"x":"# + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "}").utf8)
            // A valid message with its text's bytes replaced by invalid UTF-8 (a lone continuation byte and an overlong form).
            func broken(_ json: Data) -> Data {
                let marker = Data("/进度".utf8)
                guard let range = json.range(of: marker) else { return json }
                var copy = json
                copy.replaceSubrange(range, with: [0x80, 0xC0, 0xAF, 0xFF])
                return copy
            }
            var answers: [(String, Int)] = []

            for (name, plaintext) in [("invalid UTF-8", broken(try bot.wecomMessage("@团务助手 /进度", chat: "wrchat-g1", from: "wx-g1"))), ("deep nesting", deep)] {
                let (items, body) = try bot.wecomSigned(plaintext)
                answers.append(("wecom \(name)", try await bot.post("/webhook/wecom" + query(items), body: body).0))
            }
            for (name, body) in [("invalid UTF-8", broken(try bot.dingtalkMessage("/进度", conversation: "cid-c1", from: "staff-c1"))), ("deep nesting", deep)] {
                answers.append(("dingtalk \(name)", try await bot.post("/webhook/dingtalk", body: body, headers: bot.dingtalkSignedHeaders()).0))
            }
            for (name, plaintext) in [("invalid UTF-8", broken(try bot.feishuEvent("@bot /进度", chat: "oc_t1", from: "ou_t1"))), ("deep nesting", deep)] {
                let (body, headers) = try bot.feishuSigned(plaintext)
                answers.append(("feishu \(name)", try await bot.post("/webhook/feishu", body: body, headers: headers).0))
            }
            let generic = broken(TestBot.body(id: "g-1", chat: "oc_t1", sender: "ou_t1", text: "/进度", ts: bot.clock.now().timeIntervalSince1970))
            answers.append(
                ("generic invalid UTF-8", try await bot.post("/webhook/generic", body: generic, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: generic, secret: testSecret)]).0))

            for (what, status) in answers { #expect(status == 400, "\(what)") }
            #expect(try await bot.store.rowCount("inbound") == 0)
            try await expectValidMessagesAreStored(bot, before: 0)
        }
    }

    @Test func overlongTextsAndOversizedBodiesAreRefusedOnEveryPlatform() async throws {
        try await withPlatformBot(orgYAML: Self.orgYAML) { bot in
            let long = "/任务 " + String(repeating: "长", count: InboundLimits.maxTextBytes / 3 + 1)
            var answers: [(String, Int, Int)] = []

            let (items, body) = try bot.wecomSigned(try bot.wecomMessage("@团务助手 " + long, chat: "wrchat-g1", from: "wx-g1"))
            answers.append(("wecom long text", 413, try await bot.post("/webhook/wecom" + query(items), body: body).0))
            let dingtalk = try bot.dingtalkMessage(long, conversation: "cid-c1", from: "staff-c1")
            answers.append(("dingtalk long text", 413, try await bot.post("/webhook/dingtalk", body: dingtalk, headers: bot.dingtalkSignedHeaders()).0))
            let (feishu, headers) = try bot.feishuSigned(try bot.feishuEvent("@bot " + long, chat: "oc_t1", from: "ou_t1"))
            answers.append(("feishu long text", 413, try await bot.post("/webhook/feishu", body: feishu, headers: headers).0))
            // Just under the 64 KiB body limit, almost all of it text.
            let nearly = TestBot.body(id: "g-1", chat: "oc_t1", sender: "ou_t1", text: String(repeating: "长", count: 21_000), ts: bot.clock.now().timeIntervalSince1970)
            #expect(nearly.count < 64 * 1024)
            answers.append(
                ("generic 63 KB text", 413, try await bot.post("/webhook/generic", body: nearly, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: nearly, secret: testSecret)]).0))
            // Over 64 KiB on every platform path, refused before it is read further.
            let huge = Data(repeating: UInt8(ascii: "{"), count: 70_000)
            for path in ["wecom", "wecom-app", "dingtalk", "feishu"] {
                answers.append(("\(path) 70 KB body", 413, try await bot.post("/webhook/\(path)", body: huge).0))
            }

            for (what, expected, got) in answers { #expect(got == expected, "\(what)") }
            #expect(try await bot.store.rowCount("inbound") == 0)
            try await expectValidMessagesAreStored(bot, before: 0)
        }
    }
}

/// The command level through the generic webhook: hostile arguments reach the parser and get one
/// bounded, clear answer, and no task is stored for them.
struct BadCommandInputTests {
    /// Sends `text` as the district admin and returns the bot's answers to the district chat.
    func answers(to text: String, bot: TestBot) async throws -> [String] {
        #expect(try await bot.say(text, in: "chat-d", from: "u-d") == 200)
        try await bot.settle()
        return bot.fake.to("chat-d").map(\.text)
    }

    @Test func overflowingNegativeAndZeroTaskRefsGetTheSyntaxBack() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            for (index, ref) in ["T-99999999999999999999", "T--1", "T-0", "T-1e9"].enumerated() {
                let replies = try await answers(to: "/进度 \(ref)", bot: bot)
                #expect(replies.count == index + 1)
                let reply = replies.last ?? ""
                #expect(reply.contains("“\(ref)”不是有效的编号") && reply.contains("/进度 [T-编号]"), "\(reply)")
            }
            #expect(try await bot.store.rowCount("tasks") == 0)
        }
    }

    @Test func aHugeMentionListGetsOneBoundedAnswerAndNoPartialTask() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            // Thousands of @names: over the text limit, refused at the door.
            let thousands = "/任务 " + (1...5_000).map { "@单位\($0)" }.joined(separator: " ") + " 内容"
            #expect(try await bot.say(thousands, in: "chat-d", from: "u-d") == 413)
            #expect(try await bot.inboundCount() == 0)
            // Issue 11: the sender is told in the chat, once however often the platform retries.
            #expect(try await bot.say(thousands, in: "chat-d", from: "u-d", id: "long-1") == 413)
            #expect(try await bot.say(thousands, in: "chat-d", from: "u-d", id: "long-1") == 413)
            try await bot.settle()
            let told = bot.fake.to("chat-d")
            #expect(told.filter { $0.text.contains("您的消息太长") }.count == 2, "\(told.map(\.text))")
            #expect(told.allSatisfy { $0.mentions == ["u-d"] && !$0.text.contains("单位1") })
            #expect(try await bot.inboundCount() == 0)
            let before = told.count

            // Hundreds of unknown names within the limit: one refusal naming the first, no task.
            let unknown = "/任务 " + (1...600).map { "@单位\($0)" }.joined(separator: " ") + " 内容"
            let replies = Array(try await answers(to: unknown, bot: bot).dropFirst(before))
            #expect(replies.count == 1)
            #expect(replies.first?.contains("找不到单位“单位1”") == true, "\(replies)")
            #expect((replies.first?.utf8.count ?? 0) < 512)
            #expect(try await bot.store.rowCount("tasks") == 0)
            #expect(try await bot.store.rowCount("task_targets") == 0)

            // The same two towns named a thousand times each: one task with two targets.
            let repeated = "/任务 " + String(repeating: "@t1 @t2 ", count: 1_000) + "内容"
            _ = try await answers(to: repeated, bot: bot)
            #expect(try await bot.store.rowCount("tasks") == 1)
            #expect(try await bot.store.rowCount("task_targets") == 2)
        }
    }
}
