import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// `InboundLimits` on every platform: an over-long id or text is refused before anything is
/// stored, and a WeCom `CreateTime` that is not whole seconds cannot give a non-finite time.
struct InboundLimitsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let longID = String(repeating: "9", count: InboundLimits.maxIDBytes + 1)
    let longText = String(repeating: "长", count: InboundLimits.maxTextBytes / 3 + 1)

    // MARK: One request per platform, built with the adapters' own helpers

    func generic(id: String = "m-1", sender: String = "u-1", text: String = "hi") throws(InboundRejection) -> InboundOutcome {
        let adapter = GenericAdapter(secret: "s", outboundURL: "http://127.0.0.1:9/")
        let body = Data(
            OutJSON.object([
                ("id", .string(id)), ("group", .string("g-1")), ("sender", .string(sender)), ("text", .string(text)), ("ts", .int(1_800_000_000)),
            ]).text.utf8)
        let headers = ["x-leagueops-signature": [GenericAdapter.signature(body: body, secret: "s")]]
        return try adapter.decode(InboundRequest(method: "POST", headers: headers, body: body), path: "generic", now: now)
    }

    func dingtalk(msgID: String = "msg-1", conversation: String = "cid-1", text: String = "hi") throws(InboundRejection) -> InboundOutcome {
        let adapter = DingTalkAdapter(appSecret: "app-secret")
        let body = Data(
            OutJSON.object([
                ("msgtype", .string("text")), ("text", .object([("content", .string(text))])), ("msgId", .string(msgID)),
                ("conversationId", .string(conversation)), ("senderStaffId", .string("staff-1")),
            ]).text.utf8)
        let timestamp = "1800000000000"
        let headers = ["timestamp": [timestamp], "sign": [DingTalkAdapter.sign(timestamp: timestamp, secret: "app-secret")]]
        return try adapter.decode(InboundRequest(method: "POST", headers: headers, body: body), path: "dingtalk", now: now)
    }

    func feishu(messageID: String = "om_1", text: String = "hi") throws(InboundRejection) -> InboundOutcome {
        let adapter = FeishuAdapter(verificationToken: "token", encryptKey: nil)
        let content = OutJSON.object([("text", .string(text))]).text
        let message = OutJSON.object([
            ("message_id", .string(messageID)), ("chat_id", .string("oc_1")), ("chat_type", .string("p2p")), ("message_type", .string("text")),
            ("content", .string(content)),
        ]).text
        let body = Data(
            #"{"schema":"2.0","header":{"event_id":"e-1","event_type":"im.message.receive_v1","token":"token"},"event":{"sender":{"sender_id":{"open_id":"ou_1"}},"message":\#(message)}}"#
                .utf8)
        return try adapter.decode(InboundRequest(method: "POST", body: body), path: "feishu", now: now)
    }

    /// A WeCom self-built-app message: the XML plaintext sealed for the corp and signed.
    func wecomApp(_ xml: String) throws(InboundRejection) -> InboundOutcome {
        let crypto = WeComCrypto(token: "token", encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")!
        let adapter = WeComAdapter(botCrypto: crypto, corpID: "corp")
        let encrypt = crypto.seal(Array(xml.utf8), receiveID: "corp")
        let query = ["timestamp": "1800000000", "nonce": "1", "msg_signature": crypto.signature(timestamp: "1800000000", nonce: "1", encrypt: encrypt)]
        let body = Data("<xml><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>".utf8)
        return try adapter.decode(InboundRequest(method: "POST", query: query, body: body), path: WeComAdapter.appPath, now: now)
    }

    func appXML(msgID: String = "1", createTime: String = "1800000000", content: String = "hi") -> String {
        "<xml><FromUserName>zhangsan</FromUserName><CreateTime>\(createTime)</CreateTime><MsgType>text</MsgType><Content><![CDATA[\(content)]]></Content><MsgId>\(msgID)</MsgId></xml>"
    }

    // MARK: Tests

    @Test func messagesWithinTheLimitsAreAccepted() throws {
        #expect(try generic().chatMessage != nil)
        #expect(try dingtalk().chatMessage != nil)
        #expect(try feishu().chatMessage != nil)
        #expect(try wecomApp(appXML()).chatMessage != nil)
    }

    /// Every refusal has `status` and names the limit.
    func expect(_ refusals: [InboundRejection?], status: Int, limit: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        for refusal in refusals {
            #expect(refusal?.status == status, sourceLocation: sourceLocation)
            #expect(refusal?.reason.contains("at most \(limit)") == true, "\(String(describing: refusal))", sourceLocation: sourceLocation)
        }
    }

    @Test func overlongIDsAreRefusedWith400() {
        expect(
            [
                rejection { () throws(InboundRejection) in try generic(sender: longID) },
                rejection { () throws(InboundRejection) in try dingtalk(msgID: longID) },
                rejection { () throws(InboundRejection) in try dingtalk(conversation: longID) },
                rejection { () throws(InboundRejection) in try feishu(messageID: longID) },
                rejection { () throws(InboundRejection) in try wecomApp(appXML(msgID: longID)) },
            ], status: 400, limit: InboundLimits.maxIDBytes)
    }

    @Test func overlongTextsAreRefusedWith413() {
        expect(
            [
                rejection { () throws(InboundRejection) in try generic(text: longText) },
                rejection { () throws(InboundRejection) in try dingtalk(text: longText) },
                rejection { () throws(InboundRejection) in try feishu(text: longText) },
                rejection { () throws(InboundRejection) in try wecomApp(appXML(content: longText)) },
            ], status: 413, limit: InboundLimits.maxTextBytes)
    }

    /// Regression: `Double("inf")`, `Double("nan")` and `Double("1e400")` used to become the sent time.
    @Test func aWeComCreateTimeThatIsNotWholeSecondsFallsBackToNow() throws {
        for createTime in ["inf", "nan", "1e400", "-1e400", "99999999999999999999"] {
            let message = try #require(try wecomApp(appXML(createTime: createTime)).chatMessage)
            #expect(message.sentAt == now, "\(createTime)")
        }
    }
}
