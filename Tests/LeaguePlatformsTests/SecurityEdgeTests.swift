import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// Issue 11 point 2: every platform edge signed, with short windows and no oracle.
struct SecurityEdgeTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func dingtalkRequest(secret: String, at timestamp: Date, body: String) -> InboundRequest {
        let ms = String(Int64(timestamp.timeIntervalSince1970 * 1000))
        return InboundRequest(method: "POST", headers: ["timestamp": [ms], "sign": [DingTalkAdapter.sign(timestamp: ms, secret: secret)]], body: Data(body.utf8))
    }

    static let dingtalkBody = #"{"msgtype":"text","text":{"content":"收到"},"msgId":"m1","conversationId":"cid-1","senderStaffId":"s1","chatbotCorpId":"ding-corp","robotCode":"ding-robot"}"#

    @Test func dingTalksWindowIsFiveMinutesByDefaultAndConfigurable() throws {
        let adapter = try #require(try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "app-sec"]) as? DingTalkAdapter)
        #expect(adapter.maxSkewMS == 300_000)
        let fresh = dingtalkRequest(secret: "app-sec", at: now.addingTimeInterval(-240), body: Self.dingtalkBody)
        #expect(adapter.refusal(fresh, now: now) == nil)
        // A header pair captured six minutes ago no longer forges a body (DingTalk's own window is an hour).
        let captured = dingtalkRequest(secret: "app-sec", at: now.addingTimeInterval(-360), body: Self.dingtalkBody)
        #expect(adapter.refusal(captured, now: now)?.status == 401)
        let wider = try #require(try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "app-sec", "max_skew": "10m"]) as? DingTalkAdapter)
        #expect(wider.refusal(captured, now: now) == nil)
        #expect(throws: PlatformSettingError.self) { try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "x", "max_skew": "2h"]) }
        #expect(throws: PlatformSettingError.self) { try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "x", "max_skew": "soon"]) }
    }

    @Test func dingTalksCorpAndRobotAreComparedWhenConfigured() throws {
        let adapter = try #require(try PlatformFactory.make(name: "dingtalk", settings: ["app_secret": "app-sec", "corp_id": "ding-corp", "robot_code": "ding-robot"]) as? DingTalkAdapter)
        let good = dingtalkRequest(secret: "app-sec", at: now, body: Self.dingtalkBody)
        #expect(adapter.refusal(good, now: now) == nil)
        for (field, value) in [("ding-corp", "other-corp"), ("ding-robot", "other-robot")] {
            let forged = dingtalkRequest(secret: "app-sec", at: now, body: Self.dingtalkBody.replacingOccurrences(of: field, with: value))
            #expect(adapter.refusal(forged, now: now)?.status == 401, "\(field)")
        }
    }

    @Test func feishuChecksTheSignatureBeforeDecryptingAndAnswersEveryFailureAlike() throws {
        let key = "feishu-encrypt-key-1"
        let adapter = FeishuAdapter(verificationToken: "vt", encryptKey: key)
        func body(_ plaintext: [UInt8], corruptPadding: Bool = false) -> Data {
            var encrypted = FeishuAdapter.encrypt(plaintext, encryptKey: key, iv: Array(repeating: 7, count: 16))
            if corruptPadding {
                var bytes = Array(WireText.base64Decode(encrypted)!)
                bytes[bytes.count - 1] ^= 0x5A
                encrypted = WireText.base64(bytes)
            }
            return Data(OutJSON.object([("encrypt", .string(encrypted))]).text.utf8)
        }
        let badPadding = body(Array("{\"a\":1}".utf8), corruptPadding: true)
        let badJSON = body(Array("not json at all".utf8))
        // Unsigned: refused before anything is decrypted, whatever the ciphertext holds.
        let unsigned = [badPadding, badJSON].map { adapter.refusal(InboundRequest(method: "POST", body: $0), now: now) }
        #expect(unsigned.allSatisfy { $0?.status == 401 })
        #expect(unsigned[0]?.reason == unsigned[1]?.reason, "no difference between bad padding and bad JSON")
        // Signed (the key holder): decrypt and parse failures get the same status and the same text.
        let timestamp = String(Int(now.timeIntervalSince1970))
        let refusals = [badPadding, badJSON].map { adapter.refusal(feishuSigned($0, encryptKey: key, timestamp: timestamp), now: now) }
        #expect(refusals.allSatisfy { $0?.status == 400 })
        #expect(refusals.allSatisfy { $0?.reason.hasPrefix("Feishu encrypted event could not be read") == true })
        // The plain url_verification challenge is still answered unsigned.
        let challenge = Data(#"{"challenge":"c-1","token":"vt","type":"url_verification"}"#.utf8)
        let outcome = try adapter.decode(InboundRequest(method: "POST", body: challenge), path: "feishu", now: now)
        #expect(outcome.directResponse.map { String(decoding: $0.body, as: UTF8.self) } == #"{"challenge":"c-1"}"#)
    }

    @Test func theGenericPlatformSignsOutboundWithItsOwnSecretWhenGiven() throws {
        let adapter = try #require(try PlatformFactory.make(name: "generic", settings: ["secret": "in-sec", "outbound_secret": "out-sec"]) as? GenericAdapter)
        let request = try adapter.encode(OutboundMessage(key: "k", unitID: "u", group: GroupBinding(platform: "generic", chat: "c"), text: "t"), now: now)
        #expect(request.headers[GenericAdapter.signatureHeader] == GenericAdapter.signature(body: request.body, secret: "out-sec"))
        #expect(request.headers[GenericAdapter.signatureHeader] != GenericAdapter.signature(body: request.body, secret: "in-sec"))
        let same = try #require(try PlatformFactory.make(name: "generic", settings: ["secret": "in-sec"]) as? GenericAdapter)
        let plain = try same.encode(OutboundMessage(key: "k", unitID: "u", group: GroupBinding(platform: "generic", chat: "c"), text: "t"), now: now)
        #expect(plain.headers[GenericAdapter.signatureHeader] == GenericAdapter.signature(body: plain.body, secret: "in-sec"))
    }
}
