import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

@Suite("Feishu adapter against Vectors/feishu.json")
struct FeishuTests {
    let vectors: Vector
    let generated: Vector

    init() throws {
        vectors = try Vector.load("feishu.json")
        generated = vectors["generated"]
    }

    private func adapter(encrypted: Bool = true, botOpenID: String? = nil, botName: String? = nil) throws -> FeishuAdapter {
        FeishuAdapter(
            verificationToken: try generated["config"]["verification_token"].str(),
            encryptKey: encrypted ? try generated["config"]["encrypt_key"].str() : nil,
            botOpenID: botOpenID, botName: botName
        )
    }

    /// A POST of `body` signed with `encryptKey`, the vector config's by default.
    private func signed(_ body: String, timestamp: String = "1718000601", nonce: String = "n", encryptKey: String? = nil) throws -> InboundRequest {
        feishuSigned(Data(body.utf8), encryptKey: try encryptKey ?? generated["config"]["encrypt_key"].str(), timestamp: timestamp, nonce: nonce)
    }

    private let now = Date(timeIntervalSince1970: 1_718_000_602)

    @Test("official ciphertexts decrypt to the documented plaintexts", arguments: [0, 1, 2])
    func officialSample(index: Int) throws {
        let sample = vectors["official_samples"][index]
        let key = try sample["encrypt_key"].str()
        if let keyHex = sample["derived"]["aes_key_hex"].string {
            #expect(Bytes.hex(FeishuAdapter.aesKey(encryptKey: key)) == keyHex)
        }
        let plain = try FeishuAdapter.decrypt(try sample["encrypt"].str(), encryptKey: key)
        #expect(utf8(Data(plain)) == (try sample["expected_plaintext"].str()))
        // Re-encrypting with the sample's own IV gives the sample ciphertext back.
        let cipher = try #require(Data(base64Encoded: try sample["encrypt"].str()))
        if let ivHex = sample["derived"]["iv_hex"].string { #expect(Bytes.hex(cipher.prefix(16)) == ivHex) }
        #expect(FeishuAdapter.encrypt(plain, encryptKey: key, iv: Array(cipher.prefix(16))) == (try sample["encrypt"].str()))
    }

    @Test("encrypted im.message.receive_v1: signature, decryption, ChatMessage, event id")
    func encryptedMessage() throws {
        let vector = generated["im_message_receive_v1_encrypted"]
        let encryptKey = try generated["config"]["encrypt_key"].str()
        #expect(Bytes.hex(FeishuAdapter.aesKey(encryptKey: encryptKey)) == (try generated["derived"]["aes_key_hex"].str()))
        let headers = vector["request"]["headers"]
        let timestamp = try headers["X-Lark-Request-Timestamp"].str()
        let nonce = try headers["X-Lark-Request-Nonce"].str()
        #expect(timestamp + nonce + encryptKey == (try vector["intermediate"]["signed_prefix"].str()))
        let body = try vector["request"]["body"].str()
        #expect(FeishuAdapter.signature(timestamp: timestamp, nonce: nonce, encryptKey: encryptKey, body: Data(body.utf8)) == (try headers["X-Lark-Signature"].str()))

        // Encrypting the plaintext event with the fixed IV reproduces the body's ciphertext.
        let inputs = vector["inputs_used_to_build"]
        let encrypt = FeishuAdapter.encrypt(Array((try inputs["plaintext_event_json"].str()).utf8), encryptKey: encryptKey, iv: try hexBytes(try inputs["iv_hex"].str()))
        #expect(OutJSON.object([("encrypt", .string(encrypt))]).text == body)

        let adapter = try adapter()
        let request = try vector["request"].request()
        guard case .event(let envelope) = try adapter.open(request, now: now) else { Issue.record("expected an event"); return }
        let expected = vector["expected"]
        #expect(envelope.eventID == (try expected["dedupe_keys"]["event_id"].str()))
        #expect(envelope.eventType == (try expected["event_type"].str()))
        #expect(expected["decrypted_event"].jsonEquals(envelope.plaintext))

        let outcome = try adapter.decode(request, path: "feishu", now: now)
        let chat = try #require(outcome.chatMessage)
        #expect(
            chat
                == ChatMessage(
                    platform: "feishu", chat: try expected["chat_id"].str(), sender: try expected["sender_open_id"].str(),
                    text: try expected["text_without_mention"].str(), messageID: try expected["dedupe_keys"]["message_id"].str(),
                    sentAt: Date(timeIntervalSince1970: 1_718_000_599), mentionsBot: true
                ))
        #expect(outcome.reply?.status == 200)
        #expect(outcome.reply?.body == Data((try expected["response"]["body"].str()).utf8))

        // The same with the bot's open_id configured, and with its name.
        let byID = try self.adapter(botOpenID: try expected["bot_mentioned_open_id"].str())
        #expect(try byID.decode(request, path: "feishu", now: now).chatMessage?.text == (try expected["text_without_mention"].str()))
        let byName = try self.adapter(botName: "团务助手")
        #expect(try byName.decode(request, path: "feishu", now: now).chatMessage?.mentionsBot == true)
        // Another bot's open_id: the placeholder becomes @name and the message does not address us.
        let other = try self.adapter(botOpenID: "ou_someone_else")
        let otherChat = try #require(try other.decode(request, path: "feishu", now: now).chatMessage)
        #expect(otherChat.text == "@团务助手 下周三团课签到表发一下")
        #expect(otherChat.mentionsBot == false)
    }

    @Test("every negative case is rejected")
    func negativeCases() throws {
        let adapter = try adapter()
        let cases = generated["negative_cases"].array
        #expect(cases.count == 4)
        let encryptKey = try generated["config"]["encrypt_key"].str()
        for negative in cases {
            let label = try negative["label"].str()
            switch label {
            case "signature_over_reserialised_body", "wrong_signature":
                let refused = adapter.refusal(try negative.request(), now: now)
                #expect(refused?.status == 401 && refused?.reason.contains("X-Lark-Signature") == true, "\(label): \(String(describing: refused))")
            case "pad_byte_17", "too_short":
                let encrypt = try negative["encrypt"].str()
                #expect(throws: InboundRejection.self, "\(label)") { try FeishuAdapter.decrypt(encrypt, encryptKey: encryptKey) }
                // Through the adapter with a valid signature over the body, so decryption is what refuses.
                let refused = adapter.refusal(try signed(OutJSON.object([("encrypt", .string(encrypt))]).text), now: now)
                let word = label == "too_short" ? "short" : "padding"
                #expect(refused?.status == 400 && refused?.reason.contains(word) == true, "\(label): \(String(describing: refused))")
            default:
                Issue.record("unexpected negative case \(label)")
            }
        }
    }

    @Test("more refusals: missing signature, wrong token, bad JSON, unconfigured key, stale timestamp")
    func moreRefusals() throws {
        let adapter = try adapter()
        let vector = generated["im_message_receive_v1_encrypted"]
        let encryptKey = try generated["config"]["encrypt_key"].str()
        func status(_ adapter: FeishuAdapter, _ request: InboundRequest) -> Int? { adapter.refusal(request, now: now)?.status }
        // An encrypted event without signature headers although an Encrypt Key is set.
        #expect(status(adapter, InboundRequest(method: "POST", body: Data((try vector["request"]["body"].str()).utf8))) == 401)
        // A wrong verification token inside a correctly signed and encrypted event.
        let wrongToken = (try vector["inputs_used_to_build"]["plaintext_event_json"].str()).replacingOccurrences(of: "vT0kEnCYL2025abcdEFGHijkl", with: "wrong")
        let wrongBody = OutJSON.object([("encrypt", .string(FeishuAdapter.encrypt(Array(wrongToken.utf8), encryptKey: encryptKey)))]).text
        #expect(status(adapter, try signed(wrongBody)) == 401)
        // Signed but stale by more than a day.
        #expect(status(adapter, try signed(try vector["request"]["body"].str(), timestamp: "1717900000")) == 401)
        // Not JSON, not an object, encrypt of the wrong type, decrypted non-JSON.
        #expect(status(adapter, try signed("not json")) == 400)
        #expect(status(adapter, try signed("[1]")) == 400)
        #expect(status(adapter, try signed(#"{"encrypt":1}"#)) == 400)
        let junk = OutJSON.object([("encrypt", .string(FeishuAdapter.encrypt(Array("hello".utf8), encryptKey: encryptKey)))]).text
        #expect(status(adapter, try signed(junk)) == 400)
        #expect(status(adapter, try signed(#"{"encrypt":"%%%"}"#)) == 400)
        // Encrypted body while no Encrypt Key is configured.
        #expect(status(try self.adapter(encrypted: false), InboundRequest(method: "POST", body: Data((try vector["request"]["body"].str()).utf8))) == 400)
        // GET is not an event.
        #expect(status(adapter, InboundRequest(method: "GET")) == 405)
    }

    @Test("plaintext event: token-authenticated when no Encrypt Key is configured")
    func plaintextEvent() throws {
        let vector = generated["im_message_receive_v1_plaintext"]
        let request = try vector["request"].request()
        let plain = try adapter(encrypted: false)
        let outcome = try plain.decode(request, path: "feishu", now: now)
        #expect(outcome.chatMessage?.messageID == "om_5ce6d572455d361153b7cb51da133945")
        #expect(outcome.chatMessage?.text == "下周三团课签到表发一下")
        #expect(vector["expected"]["header_token_matches"].value as? Bool == true)
        // A wrong token is refused.
        let wrong = FeishuAdapter(verificationToken: "other", encryptKey: nil)
        #expect(wrong.refusal(request, now: now)?.status == 401)
        // With an Encrypt Key configured, an unsigned plaintext event is refused.
        let keyed = try adapter()
        #expect(keyed.refusal(request, now: now)?.status == 401)
    }

    @Test("url_verification, plain and encrypted, is answered with plain JSON")
    func urlVerification() throws {
        for name in ["url_verification_plain", "url_verification_encrypted"] {
            let vector = generated[name]
            let expected = vector["expected_response"]
            for adapter in name.hasSuffix("plain") ? [try adapter(encrypted: false), try adapter()] : [try adapter()] {
                var request = try vector["request"].request()
                if !name.hasSuffix("plain") {
                    // Issue 11: with an Encrypt Key nothing unsigned is decrypted, the challenge neither.
                    #expect(adapter.refusal(request, now: now)?.status == 401)
                    request = try signed(utf8(request.body), timestamp: String(Int(now.timeIntervalSince1970)), nonce: "n1")
                }
                let outcome = try adapter.decode(request, path: "feishu", now: now)
                let response = try #require(outcome.directResponse, "\(name)")
                #expect(utf8(response.body) == (try expected["body"].str()), "\(name)")
                #expect(Int64(response.status) == expected["status"].int64)
                #expect(response.contentType.hasPrefix(try expected["content_type"].str()))
            }
        }
        let encrypted = generated["url_verification_encrypted"]
        let inputs = encrypted["inputs_used_to_build"]
        let encrypt = FeishuAdapter.encrypt(Array((try inputs["plaintext"].str()).utf8), encryptKey: try generated["config"]["encrypt_key"].str(), iv: try hexBytes(try inputs["iv_hex"].str()))
        #expect(OutJSON.object([("encrypt", .string(encrypt))]).text == (try encrypted["request"]["body"].str()))
        // The oapi-sdk-go sample is a schema-2.0 url_verification with the token in its header.
        let sdkSample = vectors["official_samples"][2]
        let sdkAdapter = FeishuAdapter(verificationToken: "v", encryptKey: try sdkSample["encrypt_key"].str())
        let sdkBody = OutJSON.object([("encrypt", .string(try sdkSample["encrypt"].str()))]).text
        let sdkRequest = try signed(sdkBody, timestamp: String(Int(now.timeIntervalSince1970)), nonce: "n2", encryptKey: try sdkSample["encrypt_key"].str())
        let sdkOutcome = try sdkAdapter.decode(sdkRequest, path: "feishu", now: now)
        #expect(sdkOutcome.directResponse.map { utf8($0.body) } == #"{"challenge":"1212"}"#)
        // A challenge with the wrong token is refused.
        let wrong = FeishuAdapter(verificationToken: "other", encryptKey: nil)
        let challenge = try generated["url_verification_plain"]["request"].request()
        #expect(wrong.refusal(challenge, now: now)?.status == 401)
    }

    @Test("other events and message types are acknowledged and ignored")
    func ignored() throws {
        let adapter = try adapter(encrypted: false)
        let token = try generated["config"]["verification_token"].str()
        let other = #"{"schema":"2.0","header":{"event_id":"e1","event_type":"im.chat.member.bot.added_v1","token":"\#(token)"},"event":{}}"#
        let outcome = try adapter.decode(InboundRequest(method: "POST", body: Data(other.utf8)), path: "feishu", now: now)
        #expect(outcome.isIgnore)
        #expect(outcome.reply?.body == Data("{}".utf8))
        let image =
            #"{"schema":"2.0","header":{"event_id":"e2","event_type":"im.message.receive_v1","token":"\#(token)"},"event":{"sender":{"sender_id":{"open_id":"ou_1"}},"message":{"message_id":"om_1","chat_id":"oc_1","chat_type":"group","message_type":"image","content":"{\"image_key\":\"k\"}"}}}"#
        #expect(try adapter.decode(InboundRequest(method: "POST", body: Data(image.utf8)), path: "feishu", now: now).isIgnore)
        let v1 = #"{"uuid":"u","token":"\#(token)","ts":"1","type":"event_callback","event":{"type":"message"}}"#
        #expect(try adapter.decode(InboundRequest(method: "POST", body: Data(v1.utf8)), path: "feishu", now: now).isIgnore)
        let badContent =
            #"{"schema":"2.0","header":{"event_id":"e3","event_type":"im.message.receive_v1","token":"\#(token)"},"event":{"sender":{"sender_id":{"open_id":"ou_1"}},"message":{"message_id":"om_1","chat_id":"oc_1","chat_type":"group","message_type":"text","content":"not json"}}}"#
        #expect(adapter.refusal(InboundRequest(method: "POST", body: Data(badContent.utf8)), now: now)?.status == 400)
    }

    @Test("mention placeholders: bot removed, others become @name, @_user_1 never eats @_user_10")
    func mentions() throws {
        let adapter = try adapter(botOpenID: "ou_bot")
        var mentions = [FeishuAdapter.FeishuMention(key: "@_user_1", openID: "ou_bot", name: "团务助手")]
        mentions += (2...10).map { FeishuAdapter.FeishuMention(key: "@_user_\($0)", openID: "ou_\($0)", name: "成员\($0)") }
        let resolved = adapter.resolveMentions("请 @_user_10 和 @_user_2 签到 @_user_1", mentions: mentions)
        #expect(resolved.text == "请 @成员10 和 @成员2 签到")
        #expect(resolved.mentionsBot)
        let p2p =
            #"{"schema":"2.0","header":{"event_id":"e","event_type":"im.message.receive_v1","token":"t"},"event":{"sender":{"sender_id":{"user_id":"u1"}},"message":{"message_id":"om_9","chat_id":"oc_p2p","chat_type":"p2p","message_type":"text","content":"{\"text\":\"/签到\"}"}}}"#
        let direct = try FeishuAdapter(verificationToken: "t", encryptKey: nil).decode(InboundRequest(method: "POST", body: Data(p2p.utf8)), path: "feishu", now: now)
        #expect(direct.chatMessage?.mentionsBot == true)
        #expect(direct.chatMessage?.sender == "u1")
    }

    // MARK: Outbound custom bot

    @Test("custom bot sign: HMAC key is timestamp\\nsecret, message empty; the DingTalk-style value differs")
    func botSign() throws {
        let bot = generated["custom_bot_outbound"]
        let secret = try bot["config"]["secret"].str()
        let timestamp = try bot["timestamp_seconds"].str()
        #expect(timestamp + "\n" + secret == (try bot["intermediate"]["hmac_key"].str()))
        #expect(try bot["intermediate"]["hmac_message"].str(sourceLocation: #_sourceLocation).isEmpty)
        #expect(FeishuAdapter.botSign(timestampSeconds: timestamp, secret: secret) == (try bot["expected_sign"].str()))
        #expect(DingTalkAdapter.sign(timestamp: timestamp, secret: secret) == (try bot["wrong_dingtalk_style_sign_for_contrast"].str()))
        #expect(FeishuAdapter.botSign(timestampSeconds: timestamp, secret: secret) != DingTalkAdapter.sign(timestamp: timestamp, secret: secret))
    }

    @Test("custom bot: URL, text and post bodies match the vector byte for byte")
    func bodies() throws {
        let bot = generated["custom_bot_outbound"]
        let adapter = try adapter()
        let url = try bot["url"].str()
        let hookID = try #require(url.components(separatedBy: "/").last)
        let credentials = ["hook": hookID, "hook_secret": try bot["config"]["secret"].str()]
        let now = Date(timeIntervalSince1970: 1_718_000_700.9)
        let text = OutboundMessage(key: "k1", unitID: "u", group: group("feishu", credentials), text: "【团务提醒】主题团日改到周五", mentions: [mention(user: "all", name: "所有人")])
        let textRequest = try adapter.encode(text, now: now)
        #expect(textRequest.url == url)
        #expect(textRequest.headers["Content-Type"] == "application/json")
        #expect(
            utf8(textRequest.body)
                == #"{"timestamp":"1718000700","sign":"nd8RlS5N5GFoYofYyAYMwxbwFLLhfBDZncVzjU1LG/U=","msg_type":"text","content":{"text":"【团务提醒】主题团日改到周五 <at user_id=\"all\">所有人</at>"}}"#)
        #expect(bot["text_body"].jsonEquals(textRequest.body))

        let post = OutboundMessage(
            key: "k2", unitID: "u", group: group("feishu", credentials), text: "# 团务周报\n本周待办：团员教育评议",
            mentions: [mention(user: "ou_84aad35d084aa403a838cf73ee18467a", name: "王小团")], markdown: true
        )
        let postBody = try adapter.encode(post, now: now).body
        #expect(
            utf8(postBody)
                == #"{"timestamp":"1718000700","sign":"nd8RlS5N5GFoYofYyAYMwxbwFLLhfBDZncVzjU1LG/U=","msg_type":"post","content":{"post":{"zh_cn":{"title":"团务周报","content":[[{"tag":"text","text":"本周待办：团员教育评议 "},{"tag":"at","user_id":"ou_84aad35d084aa403a838cf73ee18467a"}]]}}}}"#
        )
        #expect(bot["post_body"].jsonEquals(postBody))

        // A full hook URL is used as given; without a secret no timestamp/sign is sent; no hook is an error.
        let full = OutboundMessage(key: "k3", unitID: "u", group: group("feishu", ["hook": url]), text: "hi")
        let fullRequest = try adapter.encode(full, now: now)
        #expect(fullRequest.url == url)
        #expect(utf8(fullRequest.body) == #"{"msg_type":"text","content":{"text":"hi"}}"#)
        #expect(throws: EncodeError.self) { try adapter.encode(OutboundMessage(key: "k", unitID: "u", group: group("feishu", [:]), text: "x"), now: now) }
    }

    @Test("custom bot body stays within 20 KB, cut at a character boundary")
    func bodyLimit() throws {
        let bot = generated["custom_bot_outbound"]
        #expect(bot["limits"]["max_body_bytes"].int64 == Int64(FeishuAdapter.maxBodyBytes))
        let adapter = try adapter()
        let long = String(repeating: "团课\"签到\"\n", count: 2000)  // quotes and newlines grow when escaped
        let message = OutboundMessage(key: "k", unitID: "u", group: group("feishu", ["hook": "h", "hook_secret": "s"]), text: long)
        let body = try adapter.encode(message, now: Date()).body
        #expect(body.count <= FeishuAdapter.maxBodyBytes)
        #expect(body.count > FeishuAdapter.maxBodyBytes - 200)
        let text = try #require(JSONValue.parse(body)?["content"]?["text"]?.string)
        #expect(text.hasSuffix("…"))
        #expect(long.hasPrefix(String(text.dropLast())))
    }

    @Test("classify: codes, HTTP statuses and the old StatusCode form")
    func classify() throws {
        let bot = generated["custom_bot_outbound"]
        let adapter = try adapter()
        func answer(_ value: Any, status: Int = 200) throws -> DeliveryOutcome {
            adapter.classify(OutboundResponse(status: status, body: try JSONSerialization.data(withJSONObject: value)))
        }
        let responses = bot["responses"]
        #expect(try answer(try #require(responses["success"].value)) == .delivered)
        for name in ["sign_failed", "ip_not_allowed", "keyword_missing", "bad_request"] {
            guard case .permanentFailure = try answer(try #require(responses[name].value)) else { Issue.record("\(name) must be permanent"); continue }
        }
        let limited = try #require(responses["rate_limited_code"].int64)
        guard case .rateLimited = try answer(["code": limited, "msg": "frequency limited"]) else { Issue.record("11232"); return }
        guard case .rateLimited = try answer(["code": 9499, "msg": "too many request"]) else { Issue.record("9499 too many request"); return }
        guard case .rateLimited = try answer(["code": 230020, "msg": "chat rate limit"], status: 400) else { Issue.record("230020"); return }
        guard case .rateLimited = adapter.classify(OutboundResponse(status: 429, body: Data())) else { Issue.record("429"); return }
        #expect(try answer(["StatusCode": 0, "StatusMessage": "success"]) == .delivered)
        guard case .retryLater = adapter.classify(OutboundResponse(status: 502, body: Data("bad gateway".utf8))) else { Issue.record("502"); return }
        guard case .retryLater = adapter.classify(OutboundResponse(status: 200, body: Data())) else { Issue.record("empty 200"); return }
    }

    @Test("path, rate limits, ack hint and factory")
    func facts() throws {
        let adapter = try adapter()
        #expect(adapter.webhookPaths == ["feishu"])
        #expect(adapter.rateLimit == RateLimit(perMinute: 100, perSecond: 5))
        #expect(adapter.ackHint(.zh).contains("@机器人 收到"))
        #expect(adapter.ackHint(.en).contains("@bot 收到"))
        let made = try #require(try PlatformFactory.make(name: "feishu", settings: ["verification_token": "t", "encrypt_key": "k", "bot_open_id": "ou_b"]) as? FeishuAdapter)
        #expect(made.baseURL == "https://open.feishu.cn")
        #expect(made.encryptKey == "k" && made.botOpenID == "ou_b")
        // An Encrypt Key is required, missing or empty, unless insecure_plain is set.
        #expect(throws: PlatformSettingError.self) { try PlatformFactory.make(name: "feishu", settings: ["verification_token": "t"]) }
        #expect(throws: PlatformSettingError.self) { try PlatformFactory.make(name: "feishu", settings: ["verification_token": "t", "encrypt_key": ""]) }
        let plain = try #require(try PlatformFactory.make(name: "feishu", settings: ["verification_token": "t", "encrypt_key": "", "insecure_plain": "true"]) as? FeishuAdapter)
        #expect(plain.encryptKey == nil)
        #expect(throws: PlatformSettingError(platform: "feishu", key: "verification_token", problem: "is required")) {
            try PlatformFactory.make(name: "feishu", settings: ["encrypt_key": "k"])
        }
    }
}
