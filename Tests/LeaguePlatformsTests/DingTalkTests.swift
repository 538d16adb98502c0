import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

@Suite("DingTalk adapter against Vectors/dingtalk.json")
struct DingTalkTests {
    let vectors: Vector
    let callback: Vector

    init() throws {
        vectors = try Vector.load("dingtalk.json")
        callback = vectors["generated"]["robot_http_callback"]
    }

    /// The adapter with DingTalk's documented one-hour window (the bot's default is 5 minutes).
    private func adapter() throws -> DingTalkAdapter {
        DingTalkAdapter(appSecret: try callback["config"]["app_secret"].str(), maxSkewMS: 3_600_000)
    }

    /// The vector request, with headers replaced or removed and another body.
    private func request(headers override: [String: String?] = [:], body: String? = nil) throws -> InboundRequest {
        var request = try callback["request"].request()
        for (name, value) in override { request.headers[name] = value.map { [$0] } }
        if let body { request.body = Data(body.utf8) }
        return request
    }

    private func nowAccept() throws -> Date {
        Date(timeIntervalSince1970: Double(try #require(callback["validation"]["now_ms_accept"].int64)) / 1000)
    }

    @Test("inbound sign: string to sign and Base64 HMAC-SHA256 match the vector")
    func inboundSign() throws {
        let timestamp = try callback["request"]["headers"]["timestamp"].str()
        let secret = try callback["config"]["app_secret"].str()
        #expect(timestamp + "\n" + secret == (try callback["intermediate"]["string_to_sign"].str()))
        #expect(DingTalkAdapter.sign(timestamp: timestamp, secret: secret) == (try callback["request"]["headers"]["sign"].str()))
    }

    @Test("robot callback becomes a ChatMessage with the expected fields")
    func robotCallback() throws {
        let outcome = try adapter().decode(try request(), path: "dingtalk", now: try nowAccept())
        let chat = try #require(outcome.chatMessage)
        let expected = callback["expected_parsed"]
        #expect(
            chat
                == ChatMessage(
                    platform: "dingtalk", chat: try expected["conversationId"].str(), sender: try expected["senderStaffId"].str(),
                    text: "/签到 主题团日", messageID: try expected["dedupe_key"].str(),
                    sentAt: Date(timeIntervalSince1970: 1_718_000_399.882), mentionsBot: true
                ))
        #expect(try expected["text"].str() == " /签到 主题团日")  // the raw content starts with the removed @'s space
        #expect(outcome.reply?.status == 200)
    }

    @Test("timestamp window: accepted within one hour, refused just past it, both directions")
    func timestampWindow() throws {
        let adapter = try adapter()
        let stale = Date(timeIntervalSince1970: Double(try #require(callback["validation"]["now_ms_reject_stale"].int64)) / 1000)
        let timestamp = try #require(callback["request"]["headers"]["timestamp"].int64)
        #expect(callback["validation"]["window_ms"].int64 == adapter.maxSkewMS)
        let request = try request()
        let refused = adapter.refusal(request, now: stale)
        #expect(refused?.status == 401)
        #expect(refused?.reason.contains("timestamp") == true)
        let early = Date(timeIntervalSince1970: Double(timestamp - 3_600_001) / 1000)
        #expect(adapter.refusal(request, now: early)?.status == 401)
        let edge = Date(timeIntervalSince1970: Double(timestamp + 3_600_000) / 1000)
        #expect(adapter.refusal(request, now: edge) == nil)
    }

    @Test("the sign covers only the timestamp: a different body with the same headers still verifies")
    func signIsBodyIndependent() throws {
        let body = #"{"msgtype":"text","text":{"content":"hi"},"msgId":"m2","conversationId":"c2","senderId":"$:sender"}"#
        let outcome = try adapter().decode(try request(body: body), path: "dingtalk", now: try nowAccept())
        #expect(outcome.chatMessage?.sender == "$:sender")  // falls back to senderId
        #expect(outcome.chatMessage?.text == "hi")
    }

    @Test("bad, missing, repeated or malformed headers and bodies are refused")
    func negativeCases() throws {
        let adapter = try adapter()
        let now = try nowAccept()
        let sign = try callback["request"]["headers"]["sign"].str()
        let cases: [(String, InboundRequest, Int)] = [
            ("wrong sign", try request(headers: ["sign": "C0e870zPx5ML2cZrc6rWePVvJTT/2n+1mB+ORMV7R2B="]), 401),
            ("sign of another secret", try request(headers: ["sign": DingTalkAdapter.sign(timestamp: "1718000400002", secret: "other")]), 401),
            ("url-encoded sign", try request(headers: ["sign": WireText.percentEncode(sign)]), 401),
            ("no sign", try request(headers: ["sign": nil]), 401),
            ("no timestamp", try request(headers: ["timestamp": nil]), 401),
            ("timestamp in seconds", try request(headers: ["timestamp": "1718000400"]), 401),
            ("non-numeric timestamp", try request(headers: ["timestamp": "abc"]), 401),
            ("body not JSON", try request(body: "msgtype=text"), 400),
            ("no msgId", try request(body: #"{"msgtype":"text","text":{"content":"x"},"conversationId":"c","senderStaffId":"s"}"#), 400),
            ("no conversationId", try request(body: #"{"msgtype":"text","text":{"content":"x"},"msgId":"m","senderStaffId":"s"}"#), 400),
            ("no sender", try request(body: #"{"msgtype":"text","text":{"content":"x"},"msgId":"m","conversationId":"c"}"#), 400),
            ("no text", try request(body: #"{"msgtype":"text","msgId":"m","conversationId":"c","senderStaffId":"s"}"#), 400),
        ]
        for (label, request, status) in cases {
            let refused = adapter.refusal(request, now: now)
            #expect(refused?.status == status, "\(label): \(String(describing: refused))")
            #expect(refused?.reason.isEmpty == false, "\(label)")
        }
        var doubled = try request()
        doubled.headers["sign"] = [sign, sign]
        #expect(adapter.refusal(doubled, now: now)?.status == 400)
        var get = try request()
        get.method = "GET"
        #expect(adapter.refusal(get, now: now)?.status == 405)
    }

    @Test("non-text messages are acknowledged and ignored")
    func ignoresOtherTypes() throws {
        let body = #"{"msgtype":"picture","content":{"downloadCode":"x"},"msgId":"m","conversationId":"c","senderStaffId":"s"}"#
        let outcome = try adapter().decode(try request(body: body), path: "dingtalk", now: try nowAccept())
        #expect(outcome.isIgnore)
        #expect(outcome.reply?.status == 200)
    }

    @Test("official event-subscription crypto sample decrypts with the shared WXBizMsgCrypt code")
    func eventSubscriptionSample() throws {
        let sample = vectors["official_samples"][0]
        let config = sample["config"]
        let crypto = try #require(WeComCrypto(token: try config["token"].str(), encodingAESKey: try config["encoding_aes_key"].str()))
        #expect(Bytes.hex(crypto.aesKey) == (try sample["derived"]["aes_key_hex"].str()))
        let input = sample["input"]
        #expect(crypto.signature(timestamp: try input["timestamp"].str(), nonce: try input["nonce"].str(), encrypt: try input["encrypt"].str()) == (try input["msg_signature"].str()))
        let opened = try crypto.open(try input["encrypt"].str(), receiveID: try config["key"].str())
        #expect(utf8(Data(opened.message)) == (try sample["expected"]["plaintext"].str()))
        #expect(Bytes.hex(opened.random) == (try sample["expected"]["random16_hex"].str()))
        #expect(Int64(opened.padByte) == sample["expected"]["pad_byte"].int64)
        #expect(crypto.seal(opened.message, receiveID: try config["key"].str(), random: opened.random) == (try input["encrypt"].str()))
    }

    // MARK: Outbound custom robot

    @Test("custom robot: sign, URL-encoded sign and signed URL match the vector exactly")
    func signedURL() throws {
        let robot = vectors["generated"]["custom_robot_outbound"]
        let token = try robot["config"]["access_token"].str()
        let secret = try robot["config"]["secret"].str()
        let timestamp = try robot["timestamp_ms"].str()
        #expect(timestamp + "\n" + secret == (try robot["intermediate"]["string_to_sign"].str()))
        let sign = DingTalkAdapter.sign(timestamp: timestamp, secret: secret)
        #expect(sign == (try robot["intermediate"]["sign_base64"].str()))
        #expect(WireText.percentEncode(sign) == (try robot["expected_sign_urlencoded"].str()))
        let adapter = try adapter()
        #expect(adapter.robotURL(token: token, secret: secret, timestampMS: try #require(Int64(timestamp))) == (try robot["expected_url"].str()))

        // Through encode: the clock value becomes the millisecond timestamp (no float truncation).
        let message = OutboundMessage(key: "k", unitID: "u", group: group("dingtalk", ["robot_token": token, "robot_secret": secret]), text: "x")
        let request = try adapter.encode(message, now: Date(timeIntervalSince1970: 1_718_000_500.001))
        #expect(request.url == (try robot["expected_url"].str()))
        #expect(request.headers["Content-Type"] == "application/json")
        // Without a secret (keyword / IP security) no timestamp or sign is added.
        let unsigned = OutboundMessage(key: "k", unitID: "u", group: group("dingtalk", ["robot_token": token]), text: "x")
        #expect(try adapter.encode(unsigned, now: Date()).url == "https://oapi.dingtalk.com/robot/send?access_token=\(token)")
        let missing = OutboundMessage(key: "k", unitID: "u", group: group("dingtalk", ["robot_secret": secret]), text: "x")
        #expect(throws: EncodeError.self) { try adapter.encode(missing, now: Date()) }
    }

    @Test("custom robot: text and markdown bodies match the vector byte for byte")
    func bodies() throws {
        let robot = vectors["generated"]["custom_robot_outbound"]
        let adapter = try adapter()
        let credentials = ["robot_token": try robot["config"]["access_token"].str(), "robot_secret": try robot["config"]["secret"].str()]
        let text = OutboundMessage(
            key: "k1", unitID: "u", group: group("dingtalk", credentials), text: try robot["text_body"]["text"]["content"].str(),
            mentions: [mention(mobile: "13800001111", name: "张三"), mention(user: "user0123", name: "王小团")]
        )
        let textBody = try adapter.encode(text, now: Date()).body
        #expect(utf8(textBody) == #"{"msgtype":"text","text":{"content":"【团务提醒】@13800001111 请于今晚 20:00 前提交团费收缴表"},"at":{"atMobiles":["13800001111"],"atUserIds":["user0123"],"isAtAll":false}}"#)
        #expect(robot["text_body"].jsonEquals(textBody))

        let markdown = OutboundMessage(
            key: "k2", unitID: "u", group: group("dingtalk", credentials), text: try robot["markdown_body"]["markdown"]["text"].str(),
            mentions: [mention(mobile: "13800001111", name: "张三")], markdown: true
        )
        let markdownBody = try adapter.encode(markdown, now: Date()).body
        #expect(
            utf8(markdownBody)
                == #####"{"msgtype":"markdown","markdown":{"title":"团务周报","text":"#### 团务周报\n> 已完成：主题团日\n> 待办：团员教育评议 @13800001111"},"at":{"atMobiles":["13800001111"],"isAtAll":false}}"#####)
        #expect(robot["markdown_body"].jsonEquals(markdownBody))

        // Markdown only highlights mentions written in the text: missing ones are appended; @all sets isAtAll.
        let more = OutboundMessage(key: "k3", unitID: "u", group: group("dingtalk", credentials), text: "### 提醒", mentions: [mention(user: "user0123"), mention(user: "@all")], markdown: true)
        #expect(adapter.body(for: more).text == #####"{"msgtype":"markdown","markdown":{"title":"提醒","text":"### 提醒 @user0123"},"at":{"atUserIds":["user0123"],"isAtAll":true}}"#####)
        #expect(DingTalkAdapter.title(of: "\n无标题正文") == "无标题正文")
    }

    @Test("the session-webhook reply vectors use the same body shape the encoder writes")
    func sessionWebhookShape() throws {
        let reply = vectors["generated"]["session_webhook_reply"]
        let adapter = try adapter()
        let text = OutboundMessage(key: "k", unitID: "u", group: group("dingtalk", ["robot_token": "t"]), text: try reply["text_body"]["text"]["content"].str(), mentions: [mention(user: "user0123")])
        #expect(reply["text_body"].jsonEquals(adapter.body(for: text).data))
    }

    @Test("classify: errcodes and HTTP statuses")
    func classify() throws {
        let robot = vectors["generated"]["custom_robot_outbound"]
        let adapter = try adapter()
        func answer(_ value: Any, status: Int = 200) throws -> DeliveryOutcome {
            adapter.classify(OutboundResponse(status: status, body: try JSONSerialization.data(withJSONObject: value)))
        }
        #expect(try answer(try #require(robot["responses"]["success"].value)) == .delivered)
        for failure in robot["responses"]["security_failures_all_310000"].array {
            guard case .permanentFailure(let reason) = try answer(try #require(failure.value)) else {
                Issue.record("310000 must be permanent"); continue
            }
            #expect(reason.contains("310000"))
        }
        guard case .permanentFailure = try answer(try #require(robot["responses"]["bad_token_observed"].value)) else { Issue.record("300005"); return }
        guard case .rateLimited(let after, _) = try answer(try #require(robot["responses"]["rate_limited_reported"].value)) else { Issue.record("130101"); return }
        #expect(after == 600)
        guard case .rateLimited = try answer(["errcode": 660026, "errmsg": "send too fast"]) else { Issue.record("660026"); return }
        guard case .permanentFailure = try answer(["errcode": 300001, "errmsg": "token invalid"]) else { Issue.record("300001"); return }
        guard case .retryLater = try answer(["errcode": -1, "errmsg": "system busy"]) else { Issue.record("-1"); return }
        guard case .retryLater = adapter.classify(OutboundResponse(status: 503, body: Data())) else { Issue.record("503"); return }
        guard case .retryLater = adapter.classify(OutboundResponse(status: 200, body: Data("ok".utf8))) else { Issue.record("no errcode"); return }
    }

    @Test("path, rate limit, ack hint and factory")
    func facts() throws {
        let adapter = try adapter()
        #expect(adapter.webhookPaths == ["dingtalk"])
        #expect(adapter.rateLimit == RateLimit(perMinute: 20))
        #expect(vectors["generated"]["custom_robot_outbound"]["limits"]["messages_per_minute_per_robot"].int64 == 20)
        #expect(adapter.ackHint(.zh).contains("@机器人 收到"))
        #expect(adapter.ackHint(.en).contains("@bot 收到"))
        let made = try #require(try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "s"]) as? DingTalkAdapter)
        #expect(made.baseURL == "https://oapi.dingtalk.com")
        #expect(throws: PlatformSettingError(platform: "dingtalk", key: "app_secret", problem: "is required")) {
            try PlatformFactory.make(name: "dingtalk", settings: ["base_url": "https://oapi.dingtalk.com"])
        }
        let error = #expect(throws: PlatformSettingError.self, "a base_url without scheme") {
            try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "s", "base_url": "oapi.dingtalk.com"])
        }
        #expect(error?.key == "base_url")
    }
}
