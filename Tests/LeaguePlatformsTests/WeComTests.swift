import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

@Suite("WeCom adapter against Vectors/wecom.json")
struct WeComTests {
    let vectors: Vector
    /// The generated self-built app vectors and their corp id.
    let app: Vector
    let corpID: String

    init() throws {
        vectors = try Vector.load("wecom.json")
        app = vectors["generated"]["self_built_app"]
        corpID = try app["config"]["corp_id"].str()
    }

    private func crypto(_ config: Vector) throws -> WeComCrypto {
        try #require(WeComCrypto(token: try config["token"].str(), encodingAESKey: try config["encoding_aes_key"].str()))
    }

    private func adapter(_ config: Vector, corpID: String) throws -> WeComAdapter {
        WeComAdapter(botCrypto: try crypto(config), corpID: corpID)
    }

    private func at(_ timestamp: String) throws -> Date {
        Date(timeIntervalSince1970: try #require(Double(timestamp)) + 1)
    }

    private func xmlEnvelope(_ encrypt: String, to: String = "corp") -> Data {
        Data("<xml><ToUserName><![CDATA[\(to)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>".utf8)
    }

    // MARK: Official samples (WXBizMsgCrypt Sample.* files)

    @Test("official samples: key derivation, signatures, decryption, re-encryption", arguments: [0, 1])
    func officialSample(index: Int) throws {
        let sample = vectors["official_samples"][index]
        let config = sample["config"]
        let crypto = try crypto(config)
        let receiveID = try config["receive_id"].str()
        #expect(Bytes.hex(crypto.aesKey) == (try sample["derived"]["aes_key_hex"].str()))
        #expect(Bytes.hex(crypto.iv) == (try sample["derived"]["iv_hex"].str()))

        // URL verification (GET): signature over the decoded echostr, then the plain echo.
        let verification = sample["url_verification"]
        let input = verification["input"]
        let echostr = try input["echostr"].str()
        #expect(crypto.signature(timestamp: try input["timestamp"].str(), nonce: try input["nonce"].str(), encrypt: echostr) == (try input["msg_signature"].str()))
        let echo = try crypto.open(echostr, receiveID: receiveID)
        #expect(utf8(Data(echo.message)) == (try verification["expected"]["response_body"].str()))
        #expect(Bytes.hex(echo.random) == (try verification["expected"]["random16_hex"].str()))
        #expect(Int64(echo.message.count) == verification["expected"]["msg_len"].int64)
        #expect(Int64(echo.padByte) == verification["expected"]["pad_byte"].int64)
        #expect(crypto.seal(echo.message, receiveID: receiveID, random: echo.random) == echostr)

        let adapter = WeComAdapter(botCrypto: crypto, corpID: receiveID)
        let get = InboundRequest(method: "GET", query: input.queryDictionary)
        let answer = try adapter.decode(get, path: "wecom-app", now: at(try input["timestamp"].str()))
        #expect(answer.directResponse?.body == Data((try verification["expected"]["response_body"].str()).utf8))
        #expect(answer.directResponse?.status == 200)

        // Message (POST): signature, decryption, XML fields, and the adapter's ChatMessage.
        let message = sample["message"]
        let messageInput = message["input"]
        let encrypt = try messageInput["encrypt"].str()
        let timestamp = try messageInput["timestamp"].str()
        #expect(crypto.signature(timestamp: timestamp, nonce: try messageInput["nonce"].str(), encrypt: encrypt) == (try messageInput["msg_signature"].str()))
        let opened = try crypto.open(encrypt, receiveID: receiveID)
        let expected = message["expected"]
        #expect(utf8(Data(opened.message)) == (try expected["plaintext_xml"].str()))
        #expect(Bytes.hex(opened.random) == (try expected["random16_hex"].str()))
        #expect(Int64(opened.message.count) == expected["msg_len"].int64)
        #expect(Int64(opened.padByte) == expected["pad_byte"].int64)
        #expect(crypto.seal(opened.message, receiveID: receiveID, random: opened.random) == encrypt)
        let fields = try #require(FlatXML.parse(utf8(Data(opened.message))))
        #expect(fields == expected["fields"].queryDictionary)

        var query = messageInput.queryDictionary
        query["encrypt"] = nil
        let post = InboundRequest(method: "POST", query: query, body: xmlEnvelope(encrypt, to: receiveID))
        let outcome = try adapter.decode(post, path: "wecom-app", now: at(timestamp))
        let chat = try #require(outcome.chatMessage)
        let fieldValues = expected["fields"]
        #expect(chat.platform == "wecom")
        #expect(chat.chat == "app:" + (try fieldValues["FromUserName"].str()))
        #expect(chat.sender == (try fieldValues["FromUserName"].str()))
        #expect(chat.text == (try fieldValues["Content"].str()))
        #expect(chat.messageID == (try fieldValues["MsgId"].str()))
        #expect(chat.sentAt == Date(timeIntervalSince1970: try #require(Double(try fieldValues["CreateTime"].str()))))
        #expect(chat.mentionsBot)
        #expect(outcome.reply == PlainResponse.text(""))
    }

    // MARK: Generated self-built app vectors

    @Test("self-built app: GET URL verification from the raw query string")
    func appURLVerification() throws {
        let config = app["config"]
        let crypto = try crypto(config)
        #expect(Bytes.hex(crypto.aesKey) == (try app["derived"]["aes_key_hex"].str()))
        #expect(Bytes.hex(crypto.iv) == (try app["derived"]["iv_hex"].str()))

        let verification = app["url_verification"]
        let query = decodeQuery(try verification["request"]["query_string"].str())
        #expect(query == verification["request"]["query_decoded"].queryDictionary)
        #expect(query["echostr"]?.contains("+") == true)  // a literal plus survives decoding

        let adapter = WeComAdapter(botCrypto: crypto, corpID: corpID)
        let outcome = try adapter.decode(InboundRequest(method: "GET", query: query), path: "wecom-app", now: at(try #require(query["timestamp"])))
        let response = try #require(outcome.directResponse)
        #expect(response.status == 200)
        #expect(utf8(response.body) == (try verification["expected_response"]["body"].str()))

        // Rebuild the echostr from the fixed inputs.
        let inputs = verification["inputs_used_to_build"]
        let random = Array((try inputs["random16_ascii"].str()).utf8)
        let echo = Array((try inputs["echo_plaintext"].str()).utf8)
        #expect(crypto.seal(echo, receiveID: corpID, random: random) == query["echostr"])
        let opened = try crypto.open(try #require(query["echostr"]), receiveID: corpID)
        #expect(Bytes.hex(opened.random + [0, 0, 0, UInt8(opened.message.count)] + opened.message + Array(corpID.utf8)) == (try verification["intermediate"]["plaintext_hex"].str()))
        #expect(Int64(opened.padByte) == verification["intermediate"]["pad_byte"].int64)
    }

    @Test("self-built app: encrypted XML POST becomes a ChatMessage; encryption reproduces the body")
    func appMessagePost() throws {
        let config = app["config"]
        let crypto = try crypto(config)
        let post = app["message_post"]
        let query = decodeQuery(try post["request"]["query_string"].str())
        let body = Data((try post["request"]["body"].str()).utf8)
        let adapter = WeComAdapter(botCrypto: crypto, corpID: corpID)
        let outcome = try adapter.decode(InboundRequest(method: "POST", query: query, body: body), path: "wecom-app", now: at(try #require(query["timestamp"])))
        let chat = try #require(outcome.chatMessage)
        let fields = post["expected"]["fields"]
        #expect(
            chat
                == ChatMessage(
                    platform: "wecom", chat: "app:zhangsan", sender: try fields["FromUserName"].str(), text: try fields["Content"].str(),
                    messageID: try fields["MsgId"].str(), sentAt: Date(timeIntervalSince1970: 1_718_000_123), mentionsBot: true
                ))
        #expect(outcome.reply?.status == (post["expected_response_if_no_reply"]["status"].int64).map(Int.init))
        #expect(outcome.reply?.body == Data((try post["expected_response_if_no_reply"]["body"].str()).utf8))

        let encrypt = try #require(FlatXML.parse(utf8(body))?["Encrypt"])
        #expect(crypto.signature(timestamp: query["timestamp"] ?? "", nonce: query["nonce"] ?? "", encrypt: encrypt) == query["msg_signature"])
        let opened = try crypto.open(encrypt, receiveID: corpID)
        #expect(utf8(Data(opened.message)) == (try post["expected"]["decrypted_xml"].str()))
        #expect(FlatXML.parse(utf8(Data(opened.message))) == fields.queryDictionary)
        #expect(Int64(opened.padByte) == post["intermediate"]["pad_byte"].int64)
        let inputs = post["inputs_used_to_build"]
        let random = try hexBytes(try inputs["random16_hex"].str())
        #expect(opened.random == random)  // binary random prefix is accepted
        let sealed = crypto.seal(Array((try inputs["plaintext_xml"].str()).utf8), receiveID: corpID, random: random)
        #expect(sealed == encrypt)
        #expect(Int64(try #require(Data(base64Encoded: sealed)).count) == post["intermediate"]["padded_len"].int64)
        let plainHex = try post["intermediate"]["plaintext_hex"].str()
        #expect(Bytes.hex(opened.random) + "0000012b" + Bytes.hex(opened.message) + Bytes.hex(Array(corpID.utf8)) == plainHex)
    }

    @Test("padding edge cases: pad 32, 1 and 24 encrypt and decrypt exactly", arguments: [0, 1, 2])
    func paddingEdgeCase(index: Int) throws {
        let crypto = try crypto(app["config"])
        let edge = app["padding_edge_cases"][index]
        let receiveID = try edge["receive_id"].str()
        let message = Array((try edge["msg_utf8"].str()).utf8)
        let random = Array((try edge["random16_ascii"].str()).utf8)
        #expect(Int64(16 + 4 + message.count + receiveID.utf8.count) == edge["plaintext_len"].int64)
        let sealed = crypto.seal(message, receiveID: receiveID, random: random)
        #expect(sealed == (try edge["expected_encrypt"].str()))
        let opened = try crypto.open(try edge["expected_encrypt"].str(), receiveID: receiveID)
        #expect(opened.message == message)
        #expect(opened.random == random)
        #expect(Int64(opened.padByte) == edge["expected_pad_byte"].int64)
    }

    @Test("every negative case is rejected through the wecom-app POST path")
    func negativeCases() throws {
        let crypto = try crypto(app["config"])
        let adapter = WeComAdapter(botCrypto: crypto, corpID: corpID)
        let cases = app["negative_cases"].array
        #expect(cases.count == 6)
        var seen: Set<String> = []
        for negative in cases {
            let label = try negative["label"].str()
            let encrypt = try negative["encrypt"].str()
            var query = negative["query_decoded"].queryDictionary
            if query.isEmpty {
                // Validly signed, so the rejection must come from decryption itself.
                query = ["timestamp": "1718000123", "nonce": "2026081901"]
                query["msg_signature"] = crypto.signature(timestamp: "1718000123", nonce: "2026081901", encrypt: encrypt)
            }
            let request = InboundRequest(method: "POST", query: query, body: xmlEnvelope(encrypt, to: corpID))
            let refused = try #require(
                rejection { () throws(InboundRejection) in
                    try adapter.decode(request, path: "wecom-app", now: Date(timeIntervalSince1970: 1_718_000_124))
                }, "\(label) was accepted")
            switch label {
            case "signature_one_char_changed":
                #expect(refused.status == 401 && refused.reason.contains("msg_signature"), "\(label): \(refused)")
            case "wrong_receive_id":
                #expect(refused.status == 401 && refused.reason.contains("receive id"), "\(label): \(refused)")
            case "pad_byte_zero", "pad_byte_33", "inconsistent_pad_bytes":
                #expect(refused.status == 400 && refused.reason.contains("padding"), "\(label): \(refused)")
            case "ciphertext_not_block_multiple":
                #expect(refused.status == 400 && refused.reason.contains("multiple"), "\(label): \(refused)")
            default:
                Issue.record("unexpected negative case \(label)")
            }
            // The crypto layer refuses on its own as well (except the signature case, whose ciphertext is fine).
            if label != "signature_one_char_changed" {
                #expect(throws: InboundRejection.self) { try crypto.open(encrypt, receiveID: corpID) }
            }
            seen.insert(label)
        }
        #expect(seen.count == 6)
    }

    @Test("malformed input is refused with 400, never a crash")
    func malformedInput() throws {
        let crypto = try crypto(app["config"])
        for encrypt in ["not base64!!", "", "AAAA", String(repeating: "A", count: 43) + "=", "QUJD"] {
            #expect(throws: InboundRejection.self) { try crypto.open(encrypt, receiveID: corpID) }
        }
        // A validly padded plaintext whose length field points past the end.
        let bogus = crypto.seal([], receiveID: "", random: Array(repeating: 0x41, count: 16))
        let opened = try crypto.open(bogus, receiveID: "")
        #expect(opened.message.isEmpty)
        var raw = Array(repeating: UInt8(0x41), count: 16) + [0, 0, 1, 0] + Array(repeating: UInt8(0x42), count: 8)
        raw = PKCS7.pad(raw, block: 32)
        let cipher = try #require(AESCBC.encrypt(raw, key: crypto.aesKey, iv: crypto.iv))
        let error = try #require(
            rejection { () throws(InboundRejection) in
                _ = try crypto.open(WireText.base64(cipher), receiveID: "")
                return .respond(.text(""))
            })
        #expect(error.status == 400 && error.reason.contains("length"))

        let adapter = WeComAdapter(botCrypto: crypto, corpID: corpID)
        let now = Date(timeIntervalSince1970: 1_718_000_124)
        let signed = ["msg_signature": "x", "timestamp": "1718000123", "nonce": "1"]
        let cases: [(InboundRequest, String, Int)] = [
            (InboundRequest(method: "POST", query: ["timestamp": "1", "nonce": "1"], body: Data()), "wecom-app", 400),
            (InboundRequest(method: "POST", query: signed, body: Data("<xml><Encrypt>".utf8)), "wecom-app", 400),
            (InboundRequest(method: "POST", query: signed, body: Data("<xml><ToUserName>x</ToUserName></xml>".utf8)), "wecom-app", 400),
            (InboundRequest(method: "POST", query: signed, body: Data("[1,2]".utf8)), "wecom", 400),
            (InboundRequest(method: "POST", query: signed, body: Data(#"{"encrypt":5}"#.utf8)), "wecom", 400),
            (InboundRequest(method: "GET", query: signed), "wecom", 400),  // no echostr
            (InboundRequest(method: "PUT", query: signed), "wecom", 405),
            (InboundRequest(method: "GET", query: signed), "elsewhere", 404),
        ]
        for (request, path, status) in cases {
            let refused = rejection { () throws(InboundRejection) in try adapter.decode(request, path: path, now: now) }
            #expect(refused?.status == status, "\(request.method) \(path) \(String(describing: refused))")
        }
    }

    @Test("a validly signed request with a stale timestamp is refused with 401")
    func staleTimestamp() throws {
        let post = app["message_post"]
        let query = decodeQuery(try post["request"]["query_string"].str())
        let adapter = try adapter(app["config"], corpID: corpID)
        let request = InboundRequest(method: "POST", query: query, body: Data((try post["request"]["body"].str()).utf8))
        let refused = rejection { () throws(InboundRejection) in
            try adapter.decode(request, path: "wecom-app", now: Date(timeIntervalSince1970: 1_718_000_123 + 3601))
        }
        #expect(refused?.status == 401)
        #expect(refused?.reason.contains("timestamp") == true)
        #expect(
            rejection { () throws(InboundRejection) in
                try adapter.decode(request, path: "wecom-app", now: Date(timeIntervalSince1970: 1_718_000_123 + 3600))
            } == nil)
    }

    // MARK: 智能机器人 JSON callback

    @Test("AI bot: GET URL verification answers the plain echo")
    func aiBotURLVerification() throws {
        let bot = vectors["generated"]["ai_bot_json_callback"]
        let crypto = try crypto(bot["config"])
        #expect(Bytes.hex(crypto.aesKey) == (try bot["derived"]["aes_key_hex"].str()))
        #expect(Bytes.hex(crypto.iv) == (try bot["derived"]["iv_hex"].str()))
        let verification = bot["url_verification"]
        let query = decodeQuery(try verification["request"]["query_string"].str())
        let adapter = WeComAdapter(botCrypto: crypto, corpID: "ww-not-used-by-the-ai-bot")
        let outcome = try adapter.decode(InboundRequest(method: "GET", query: query), path: "wecom", now: at(try #require(query["timestamp"])))
        #expect(outcome.directResponse?.body == Data((try verification["expected_response"]["body"].str()).utf8))
        #expect(outcome.directResponse?.status == 200)
        let inputs = verification["inputs_used_to_build"]
        #expect(crypto.seal(Array((try inputs["echo_plaintext"].str()).utf8), receiveID: "", random: Array((try inputs["random16_ascii"].str()).utf8)) == query["echostr"])
        // The AI bot's receive id is "": the app path (receive id = CorpID) must refuse the same echostr.
        let now = try at(try #require(query["timestamp"]))
        let wrongPath = rejection { () throws(InboundRejection) in
            try adapter.decode(InboundRequest(method: "GET", query: query), path: "wecom-app", now: now)
        }
        #expect(wrongPath?.status == 401)
    }

    @Test("AI bot: encrypted group @-message becomes a ChatMessage without the @mention")
    func aiBotGroupMessage() throws {
        let bot = vectors["generated"]["ai_bot_json_callback"]
        let crypto = try crypto(bot["config"])
        let post = bot["group_message_post"]
        let query = decodeQuery(try post["request"]["query_string"].str())
        let body = Data((try post["request"]["body"].str()).utf8)
        let adapter = WeComAdapter(botCrypto: crypto, corpID: "ww5a8f3c2e9b1d4076")
        let now = try at(try #require(query["timestamp"]))
        let outcome = try adapter.decode(InboundRequest(method: "POST", query: query, body: body), path: "wecom", now: now)
        let expected = post["expected"]["decrypted_json"]
        let chat = try #require(outcome.chatMessage)
        #expect(
            chat
                == ChatMessage(
                    platform: "wecom", chat: try expected["chatid"].str(), sender: try expected["from"]["userid"].str(),
                    text: "本周主题团日活动安排", messageID: try expected["msgid"].str(), sentAt: now, mentionsBot: true
                ))
        #expect(outcome.reply == PlainResponse.text(""))

        let encrypt = try #require(JSONValue.parse(body)?.text("encrypt"))
        let opened = try crypto.open(encrypt, receiveID: try post["expected"]["receive_id"].str())
        #expect(expected.jsonEquals(Data(opened.message)))
        let inputs = post["inputs_used_to_build"]
        #expect(utf8(Data(opened.message)) == (try inputs["plaintext_json"].str()))
        #expect(crypto.seal(Array((try inputs["plaintext_json"].str()).utf8), receiveID: "", random: Array((try inputs["random16_ascii"].str()).utf8)) == encrypt)

        // The same body through the app path fails the receive-id check (it was sealed for "").
        let wrongPath = rejection { () throws(InboundRejection) in
            try adapter.decode(InboundRequest(method: "POST", query: query, body: self.xmlEnvelope(encrypt)), path: "wecom-app", now: now)
        }
        #expect(wrongPath?.status == 401)
    }

    @Test("AI bot: non-text messages are ignored; single chats and mixed text are handled")
    func aiBotOtherMessages() throws {
        let bot = vectors["generated"]["ai_bot_json_callback"]
        let crypto = try crypto(bot["config"])
        let adapter = WeComAdapter(botCrypto: crypto, corpID: "corp", botName: "团务助手")
        let now = Date(timeIntervalSince1970: 1_718_000_300)
        func post(_ json: String) throws(InboundRejection) -> InboundOutcome {
            let encrypt = crypto.seal(Array(json.utf8), receiveID: "")
            let query = ["timestamp": "1718000300", "nonce": "42", "msg_signature": crypto.signature(timestamp: "1718000300", nonce: "42", encrypt: encrypt)]
            let body = Data(OutJSON.object([("encrypt", .string(encrypt))]).text.utf8)
            return try adapter.decode(InboundRequest(method: "POST", query: query, body: body), path: "wecom", now: now)
        }
        let image = try post(#"{"msgid":"m1","chatid":"c1","chattype":"group","from":{"userid":"u1"},"msgtype":"image","image":{"url":"x"}}"#)
        #expect(image.isIgnore)
        #expect(image.reply == PlainResponse.text(""))
        let single = try post(#"{"msgid":"m2","chattype":"single","from":{"userid":"u2"},"msgtype":"text","text":{"content":"/签到"}}"#)
        #expect(single.chatMessage?.chat == "single:u2")
        #expect(single.chatMessage?.text == "/签到")
        let mixed = try post(
            #"{"msgid":"m3","chatid":"c1","chattype":"group","from":{"userid":"u3"},"msgtype":"mixed","mixed":{"msg_item":[{"msgtype":"text","text":{"content":"@团务助手\u2005看图"}},{"msgtype":"image","image":{"url":"x"}}]}}"#
        )
        #expect(mixed.chatMessage?.text == "看图")
        let middle = try post(#"{"msgid":"m4","chatid":"c1","chattype":"group","from":{"userid":"u4"},"msgtype":"text","text":{"content":"@张三 请 @团务助手 签到"}}"#)
        #expect(middle.chatMessage?.text == "@张三 请  签到")
        let missing = rejection { () throws(InboundRejection) in try post(#"{"chatid":"c1","chattype":"group","from":{"userid":"u4"},"msgtype":"text","text":{"content":"x"}}"#) }
        #expect(missing?.status == 400)
        let notJSON = rejection { () throws(InboundRejection) in try post("<xml/>") }
        #expect(notJSON?.status == 400)
    }

    @Test("mention stripping without a configured bot name")
    func stripMention() throws {
        let adapter = try adapter(vectors["generated"]["ai_bot_json_callback"]["config"], corpID: "c")
        #expect(adapter.stripBotMention("@团务助手 本周主题团日活动安排", isGroup: true) == "本周主题团日活动安排")
        #expect(adapter.stripBotMention("@团务助手\u{2005}/签到 例会", isGroup: true) == "/签到 例会")
        #expect(adapter.stripBotMention("@团务助手", isGroup: true) == "")
        #expect(adapter.stripBotMention("  /签到  ", isGroup: true) == "/签到")
        #expect(adapter.stripBotMention("@no-strip in single chats", isGroup: false) == "@no-strip in single chats")
    }

    // MARK: Outbound group robot webhook

    @Test("outbound text body and URL match the vector byte for byte")
    func outboundText() throws {
        let robot = vectors["generated"]["outbound_group_robot_webhook"]
        let adapter = try adapter(app["config"], corpID: "c")
        let url = try robot["url"].str()
        let key = try #require(url.components(separatedBy: "key=").last)
        let text = try robot["text_body"]["text"]["content"].str()
        let message = OutboundMessage(
            key: "k1", unitID: "u", group: group("wecom", ["robot_key": key]), text: text,
            mentions: [mention(user: "zhangsan", name: "张三"), mention(user: "@all", name: "所有人"), mention(mobile: "13800001111", name: "李四")]
        )
        let request = try adapter.encode(message, now: Date())
        #expect(request.method == "POST")
        #expect(request.url == url)
        #expect(request.headers["Content-Type"] == "application/json")
        #expect(utf8(request.body) == #"{"msgtype":"text","text":{"content":"【团务提醒】今晚 20:00 前提交团员教育评议表。","mentioned_list":["zhangsan","@all"],"mentioned_mobile_list":["13800001111"]}}"#)
        #expect(robot["text_body"].jsonEquals(request.body))
        #expect(Int64(text.utf8.count) == robot["text_content_utf8_bytes"].int64)
    }

    @Test("outbound markdown body matches the vector byte for byte")
    func outboundMarkdown() throws {
        let robot = vectors["generated"]["outbound_group_robot_webhook"]
        let adapter = try adapter(app["config"], corpID: "c")
        let content = try robot["markdown_body"]["markdown"]["content"].str()
        let message = OutboundMessage(
            key: "k2", unitID: "u", group: group("wecom", ["robot_key": "5d0f3c9e-1a2b-4c3d-8e4f-a1b2c3d4e5f6"]), text: content,
            mentions: [mention(user: "zhangsan", name: "张三")], markdown: true
        )
        let request = try adapter.encode(message, now: Date())
        #expect(
            utf8(request.body) == ###"{"msgtype":"markdown","markdown":{"content":"## 团务周报\n> 已签到：<font color=\"info\">18</font> 人\n> 未签到：<font color=\"warning\">3</font> 人\n<@zhangsan> 请跟进"}}"###)
        #expect(robot["markdown_body"].jsonEquals(request.body))
        #expect(Int64(content.utf8.count) == robot["markdown_content_utf8_bytes"].int64)

        // A mention not yet in the content is added as <@userid>; mobiles cannot be mentioned in markdown.
        let extra = OutboundMessage(key: "k3", unitID: "u", group: message.group, text: "## 提醒", mentions: [mention(user: "lisi"), mention(mobile: "138")], markdown: true)
        #expect(adapter.body(for: extra).text == ###"{"msgtype":"markdown","markdown":{"content":"## 提醒\n<@lisi>"}}"###)
    }

    @Test("outbound content is cut to the UTF-8 byte limits without splitting a character")
    func outboundCutting() throws {
        let robot = vectors["generated"]["outbound_group_robot_webhook"]
        #expect(robot["limits"]["text_max_bytes"].int64 == Int64(WeComAdapter.textMaxBytes))
        #expect(robot["limits"]["markdown_max_bytes"].int64 == Int64(WeComAdapter.markdownMaxBytes))
        let adapter = try adapter(app["config"], corpID: "c")
        #expect(robot["limits"]["messages_per_minute_per_robot"].int64 == Int64(adapter.rateLimit.perMinute ?? 0))
        let long = String(repeating: "团员教育评议✅", count: 300)  // 3-byte CJK plus a 3-byte emoji: 6,300 bytes
        let plain = OutboundMessage(key: "k", unitID: "u", group: group("wecom", ["robot_key": "k"]), text: long)
        let body = try #require(JSONValue.parse(try adapter.encode(plain, now: Date()).body))
        let content = try #require(body["text"]?["content"]?.string)
        #expect(content.utf8.count <= 2048)
        #expect(content.utf8.count > 2048 - 6)
        #expect(content.hasSuffix("…"))
        #expect(long.hasPrefix(String(content.dropLast())))
        var markdown = plain
        markdown.markdown = true
        let markdownContent = try #require(JSONValue.parse(try adapter.encode(markdown, now: Date()).body)?["markdown"]?["content"]?.string)
        #expect(markdownContent.utf8.count <= 4096 && markdownContent.utf8.count > 4096 - 6)
        #expect(long.hasPrefix(String(markdownContent.dropLast())))
        // Exactly at the limit: unchanged.
        let exact = String(repeating: "团", count: 682) + "ab"  // 2048 bytes
        #expect(WireText.cut(exact, maxBytes: 2048) == exact)
        #expect(WireText.cut(exact + "c", maxBytes: 2048) == String(repeating: "团", count: 681) + "…")
        // A grapheme cluster (family emoji, 25 bytes) is never split.
        let family = "👨‍👩‍👧‍👦"
        #expect(WireText.cut("ab" + family, maxBytes: 20) == "ab…")
    }

    @Test("encode without robot_key fails with a clear error")
    func encodeWithoutKey() throws {
        let adapter = try adapter(app["config"], corpID: "c")
        let message = OutboundMessage(key: "k", unitID: "u", group: group("wecom", [:]), text: "x")
        #expect(throws: EncodeError.self) { try adapter.encode(message, now: Date()) }
    }

    @Test("classify: errcodes and HTTP statuses")
    func classify() throws {
        let robot = vectors["generated"]["outbound_group_robot_webhook"]
        let adapter = try adapter(app["config"], corpID: "c")
        func answer(_ json: String, _ status: Int = 200) -> DeliveryOutcome { adapter.classify(OutboundResponse(status: status, body: Data(json.utf8))) }
        func vectorAnswer(_ name: String) throws -> DeliveryOutcome {
            let value = try #require(robot["responses"][name].value)
            return adapter.classify(OutboundResponse(status: 200, body: try JSONSerialization.data(withJSONObject: value)))
        }
        #expect(try vectorAnswer("success") == .delivered)
        guard case .rateLimited = try vectorAnswer("rate_limited_example") else { Issue.record("45009 must be rate limited"); return }
        guard case .permanentFailure(let reason) = try vectorAnswer("bad_key_example") else { Issue.record("93000 must be permanent"); return }
        #expect(reason.contains("93000"))
        guard case .rateLimited = answer(#"{"errcode":45033,"errmsg":"api concurrent out of limit"}"#) else { Issue.record("45033"); return }
        guard case .retryLater = answer(#"{"errcode":-1,"errmsg":"system busy"}"#) else { Issue.record("-1"); return }
        guard case .permanentFailure = answer(#"{"errcode":40008,"errmsg":"invalid message type"}"#) else { Issue.record("40008"); return }
        guard case .retryLater = answer("", 502) else { Issue.record("502"); return }
        guard case .retryLater = answer("<html>busy</html>") else { Issue.record("200 without errcode"); return }
        guard case .rateLimited = answer("", 429) else { Issue.record("429"); return }
        guard case .permanentFailure = answer("", 404) else { Issue.record("404"); return }
    }

    @Test("paths, rate limit and the @-mention acknowledgement hint")
    func adapterFacts() throws {
        let adapter = try adapter(app["config"], corpID: "c")
        #expect(adapter.name == "wecom")
        #expect(adapter.webhookPaths == ["wecom", "wecom-app"])
        #expect(adapter.rateLimit == RateLimit(perMinute: 20))
        #expect(adapter.ackHint(.zh).contains("@机器人 收到"))
        #expect(adapter.ackHint(.en).contains("@bot 收到"))
        let named = WeComAdapter(botCrypto: adapter.botCrypto, corpID: "c", botName: "团务助手")
        #expect(named.ackHint(.zh).contains("@团务助手 收到"))
    }

    @Test("factory builds the WeCom adapter and names a missing or bad key")
    func factory() throws {
        let config = app["config"]
        let settings = ["token": try config["token"].str(), "aes_key": try config["encoding_aes_key"].str(), "corp_id": try config["corp_id"].str()]
        let made = try #require(try PlatformFactory.make(name: "wecom", settings: settings) as? WeComAdapter)
        #expect(made.baseURL == "https://qyapi.weixin.qq.com")
        #expect(made.corpID == settings["corp_id"])
        #expect(Bytes.hex(made.botCrypto.aesKey) == (try app["derived"]["aes_key_hex"].str()))
        let custom = try #require(try PlatformFactory.make(name: "wecom", settings: settings.merging(["base_url": "http://127.0.0.1:9/"]) { $1 }) as? WeComAdapter)
        #expect(custom.baseURL == "http://127.0.0.1:9")
        for key in ["token", "aes_key", "corp_id"] {
            var missing = settings
            missing[key] = nil
            #expect(throws: PlatformSettingError(platform: "wecom", key: key, problem: "is required")) {
                try PlatformFactory.make(name: "wecom", settings: missing)
            }
        }
        do {
            _ = try PlatformFactory.make(name: "wecom", settings: settings.merging(["aes_key": "short"]) { $1 })
            Issue.record("a short aes_key was accepted")
        } catch {
            #expect(error.key == "aes_key")
        }
        // A separate token/key for the self-built app callback.
        let bot = vectors["generated"]["ai_bot_json_callback"]["config"]
        let split = try #require(
            try PlatformFactory.make(
                name: "wecom",
                settings: [
                    "token": try bot["token"].str(), "aes_key": try bot["encoding_aes_key"].str(), "corp_id": try config["corp_id"].str(),
                    "app_token": try config["token"].str(), "app_aes_key": try config["encoding_aes_key"].str(),
                ]) as? WeComAdapter)
        #expect(split.botCrypto.token == bot["token"].string)
        #expect(split.appCrypto.token == config["token"].string)
        let post = app["message_post"]
        let query = decodeQuery(try post["request"]["query_string"].str())
        let outcome = try split.decode(
            InboundRequest(method: "POST", query: query, body: Data((try post["request"]["body"].str()).utf8)), path: "wecom-app", now: Date(timeIntervalSince1970: 1_718_000_124))
        #expect(outcome.chatMessage?.sender == "zhangsan")
    }

    @Test("XML reader: CDATA cannot end an element early or inject a field; split CDATA, entities, nesting")
    func flatXML() throws {
        let injected =
            "<xml><FromUserName><![CDATA[zhangsan]]></FromUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[</Content><FromUserName>boss</FromUserName><Content>]]></Content><MsgId>1</MsgId></xml>"
        let fields = try #require(FlatXML.parse(injected))
        #expect(fields["FromUserName"] == "zhangsan")
        #expect(fields["Content"] == "</Content><FromUserName>boss</FromUserName><Content>")
        // End to end: the sender stays the real one.
        let crypto = try crypto(app["config"])
        let encrypt = crypto.seal(Array(injected.utf8), receiveID: corpID)
        let query = ["timestamp": "1718000123", "nonce": "n", "msg_signature": crypto.signature(timestamp: "1718000123", nonce: "n", encrypt: encrypt)]
        let outcome = try WeComAdapter(botCrypto: crypto, corpID: corpID).decode(
            InboundRequest(method: "POST", query: query, body: xmlEnvelope(encrypt)), path: "wecom-app", now: Date(timeIntervalSince1970: 1_718_000_123))
        #expect(outcome.chatMessage?.sender == "zhangsan")
        #expect(outcome.chatMessage?.chat == "app:zhangsan")

        #expect(FlatXML.parse("<xml><Content><![CDATA[a]]]]><![CDATA[>b]]></Content></xml>")?["Content"] == "a]]>b")
        #expect(FlatXML.parse("<xml><Content>a &lt;b&gt; &amp; &#x56E2;&#22242;</Content></xml>")?["Content"] == "a <b> & 团团")
        #expect(FlatXML.parse("<?xml version=\"1.0\"?>\n<xml>\n<A>1</A>\n<B/></xml>\n") == ["A": "1", "B": ""])
        #expect(FlatXML.parse("<xml><Event><Key><![CDATA[</Event>]]></Key></Event><A>1</A></xml>")?["A"] == "1")
        for bad in [
            "", "<xml>", "<xml><A>1</A>", "<xml><A>1</A><A>2</A></xml>", "<xml><A>1</B></xml>", "<xml><A><![CDATA[x</A></xml>",
            "<xml><A>&bogus;</A></xml>", "<xml><A b=\"1\">x</A></xml>", "<xml></xml>trailing", "<other></other>",
        ] {
            #expect(FlatXML.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("EncodingAESKey decoding ignores the spare bits of the 43rd character")
    func encodingAESKey() throws {
        for sample in vectors["official_samples"].array {
            let key = try sample["config"]["encoding_aes_key"].str()
            let decoded = try #require(WeComCrypto.decodeEncodingAESKey(key))
            #expect(Bytes.hex(decoded) == (try sample["derived"]["aes_key_hex"].str()))
        }
        #expect(WeComCrypto.decodeEncodingAESKey("abc") == nil)
        #expect(WeComCrypto.decodeEncodingAESKey(String(repeating: "!", count: 43)) == nil)
    }
}
