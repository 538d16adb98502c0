import Foundation
import LeagueCore
import LeaguePlatforms

/// The platform decoder targets. Each mode turns the payload into one kind of request; the
/// credentials are the made-up ones of the shared protocol vectors (/work/shared/platforms).
enum DecoderHarness {
    /// The server clock of every fuzzed request; signed modes stamp their requests with it.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let seconds = String(Int(now.timeIntervalSince1970))
    /// A fixed random prefix / IV so an input always builds the same request.
    static let fixedRandom = [UInt8](repeating: 0x5A, count: 16)

    // MARK: Generic

    static let genericSecret = "fuzz-secret"
    static let genericAdapter = GenericAdapter(secret: genericSecret, outboundURL: "http://127.0.0.1:9/messages")

    /// 0: the payload as a correctly signed body; 1: `signature \n body`; 2: signed, header repeated.
    static func generic(mode: UInt8, payload: [UInt8]) -> Verdict {
        let header = "x-leagueops-signature"
        switch mode % 3 {
        case 0:
            let body = Data(payload)
            let request = InboundRequest(method: "POST", headers: [header: [GenericAdapter.signature(body: body, secret: genericSecret)]], body: body)
            return Invariants.decode(genericAdapter, request, path: "generic", now: now)
        case 1:
            let parts = split(payload, into: 2)
            let request = InboundRequest(method: "POST", headers: [header: [text(parts[0])]], body: Data(parts[1]))
            return Invariants.decode(genericAdapter, request, path: "generic", now: now)
        default:
            let body = Data(payload)
            let signature = GenericAdapter.signature(body: body, secret: genericSecret)
            let request = InboundRequest(method: "POST", headers: [header: [signature, signature]], body: body)
            return refused(genericAdapter, request, path: "generic", what: "a repeated signature header")
        }
    }

    // MARK: WeCom

    static let wecomCrypto = WeComCrypto(token: "GqLvZ8mTQx3rYkWp", encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")!
    static let wecomCorpID = "ww5a8f3c2e9b1d4076"
    static let wecomAdapter = WeComAdapter(botCrypto: wecomCrypto, corpID: wecomCorpID, botName: "团务助手")

    /// 0: AI-bot JSON plaintext, sealed and signed; 1: app XML plaintext, sealed, enveloped, signed;
    /// 2: the payload as the app's outer XML envelope; 3: base64 of the payload as the ciphertext
    /// (signed, so AES, padding and the length field see arbitrary bytes); 4: the payload as the
    /// `encrypt` text; 5: URL verification with the payload as `echostr`; 6: `msg_signature \n
    /// timestamp \n nonce \n path \n body` as given.
    static func wecom(mode: UInt8, payload: [UInt8]) -> Verdict {
        switch mode % 7 {
        case 0:
            return wecomPost(encrypt: wecomCrypto.seal(payload, receiveID: "", random: fixedRandom), path: WeComAdapter.aiBotPath)
        case 1:
            return wecomPost(encrypt: wecomCrypto.seal(payload, receiveID: wecomCorpID, random: fixedRandom), path: WeComAdapter.appPath)
        case 2:
            let query = wecomQuery(encrypt: "")
            return Invariants.decode(wecomAdapter, InboundRequest(method: "POST", query: query, body: Data(payload)), path: WeComAdapter.appPath, now: now)
        case 3:
            return wecomPost(encrypt: Data(payload).base64EncodedString(), path: WeComAdapter.aiBotPath)
        case 4:
            return wecomPost(encrypt: text(payload), path: WeComAdapter.aiBotPath)
        case 5:
            let echo = text(payload)
            var query = wecomQuery(encrypt: echo)
            query["echostr"] = echo
            return Invariants.decode(wecomAdapter, InboundRequest(method: "GET", query: query), path: WeComAdapter.appPath, now: now)
        default:
            let parts = split(payload, into: 5).map(text)
            let query = ["msg_signature": parts[0], "timestamp": parts[1], "nonce": parts[2]]
            return Invariants.decode(wecomAdapter, InboundRequest(method: "POST", query: query, body: Data(parts[4].utf8)), path: parts[3], now: now)
        }
    }

    static func wecomQuery(encrypt: String) -> [String: String] {
        let nonce = "1372623149"
        return ["msg_signature": wecomCrypto.signature(timestamp: seconds, nonce: nonce, encrypt: encrypt), "timestamp": seconds, "nonce": nonce]
    }

    /// A signed POST carrying `encrypt` in the path's envelope (JSON for the AI bot, XML for the app).
    static func wecomPost(encrypt: String, path: String) -> Verdict {
        let body =
            path == WeComAdapter.appPath
            ? "<xml><ToUserName><![CDATA[\(wecomCorpID)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>"
            : OutJSON.object([("encrypt", .string(encrypt))]).text
        let request = InboundRequest(method: "POST", query: wecomQuery(encrypt: encrypt), body: Data(body.utf8))
        return Invariants.decode(wecomAdapter, request, path: path, now: now)
    }

    // MARK: DingTalk

    static let dingtalkSecret = "Zk9vQeR7tY2uI8oP3aS6dF1gH4jK0lZxCvBnM5qWeRtYuIoPaSdFgHjKlZxCvBnM"
    static let dingtalkAdapter = DingTalkAdapter(appSecret: dingtalkSecret, botName: "团务助手")
    static let milliseconds = String(Int64(now.timeIntervalSince1970) * 1000)

    /// 0: the payload as a correctly signed body; 1: `timestamp \n body`, signed for that timestamp
    /// (negative, overflowing, non-numeric); 2: `timestamp \n sign \n body` as given; 3: signed,
    /// with the timestamp or the sign header repeated.
    static func dingtalk(mode: UInt8, payload: [UInt8]) -> Verdict {
        let sign = DingTalkAdapter.sign(timestamp: milliseconds, secret: dingtalkSecret)
        switch mode % 4 {
        case 0:
            let request = InboundRequest(method: "POST", headers: ["timestamp": [milliseconds], "sign": [sign]], body: Data(payload))
            return Invariants.decode(dingtalkAdapter, request, path: "dingtalk", now: now)
        case 1:
            let parts = split(payload, into: 2)
            let timestamp = text(parts[0])
            let headers = ["timestamp": [timestamp], "sign": [DingTalkAdapter.sign(timestamp: timestamp, secret: dingtalkSecret)]]
            return Invariants.decode(dingtalkAdapter, InboundRequest(method: "POST", headers: headers, body: Data(parts[1])), path: "dingtalk", now: now)
        case 2:
            let parts = split(payload, into: 3)
            let headers = ["timestamp": [text(parts[0])], "sign": [text(parts[1])]]
            return Invariants.decode(dingtalkAdapter, InboundRequest(method: "POST", headers: headers, body: Data(parts[2])), path: "dingtalk", now: now)
        default:
            let headers =
                mode & 0x80 == 0
                ? ["timestamp": [milliseconds, milliseconds], "sign": [sign]]
                : ["timestamp": [milliseconds], "sign": [sign, sign]]
            return refused(dingtalkAdapter, InboundRequest(method: "POST", headers: headers, body: Data(payload)), path: "dingtalk", what: "a repeated header")
        }
    }

    // MARK: Feishu

    static let feishuEncryptKey = "cylFeishuEncryptKey2025"
    static let feishuToken = "vT0kEnCYL2025abcdEFGHijkl"
    static let feishuBotOpenID = "ou_b0tb0tb0tb0tb0tb0tb0tb0tb0tb0tb0"
    static let feishuAdapter = FeishuAdapter(verificationToken: feishuToken, encryptKey: feishuEncryptKey, botOpenID: feishuBotOpenID)
    static let feishuPlainAdapter = FeishuAdapter(verificationToken: feishuToken, encryptKey: nil, botName: "团务助手")

    /// 0: the payload as a plain event (no Encrypt Key configured); 1: the payload as the event
    /// plaintext, encrypted and signed; 2: the payload as the raw body, signed; 3: encrypted but
    /// unsigned; 4: `timestamp \n nonce \n signature \n body` as given (an empty signature is
    /// replaced by the right one, so timestamps are fuzzed behind a valid signature).
    static func feishu(mode: UInt8, payload: [UInt8]) -> Verdict {
        switch mode % 5 {
        case 0:
            return Invariants.decode(feishuPlainAdapter, InboundRequest(method: "POST", body: Data(payload)), path: "feishu", now: now)
        case 1:
            return Invariants.decode(feishuAdapter, feishuSigned(feishuEncrypted(payload)), path: "feishu", now: now)
        case 2:
            return Invariants.decode(feishuAdapter, feishuSigned(Data(payload)), path: "feishu", now: now)
        case 3:
            return Invariants.decode(feishuAdapter, InboundRequest(method: "POST", body: feishuEncrypted(payload)), path: "feishu", now: now)
        default:
            let parts = split(payload, into: 4)
            let (timestamp, nonce, body) = (text(parts[0]), text(parts[1]), Data(parts[3]))
            let signature =
                parts[2].isEmpty
                ? FeishuAdapter.signature(timestamp: timestamp, nonce: nonce, encryptKey: feishuEncryptKey, body: body) : text(parts[2])
            let headers = ["x-lark-request-timestamp": [timestamp], "x-lark-request-nonce": [nonce], "x-lark-signature": [signature]]
            return Invariants.decode(feishuAdapter, InboundRequest(method: "POST", headers: headers, body: body), path: "feishu", now: now)
        }
    }

    static func feishuEncrypted(_ plaintext: [UInt8]) -> Data {
        OutJSON.object([("encrypt", .string(FeishuAdapter.encrypt(plaintext, encryptKey: feishuEncryptKey, iv: fixedRandom)))]).data
    }

    static func feishuSigned(_ body: Data) -> InboundRequest {
        let nonce = "3f8e2a9c1b7d4e60"
        let signature = FeishuAdapter.signature(timestamp: seconds, nonce: nonce, encryptKey: feishuEncryptKey, body: body)
        let headers = ["x-lark-request-timestamp": [seconds], "x-lark-request-nonce": [nonce], "x-lark-signature": [signature]]
        return InboundRequest(method: "POST", headers: headers, body: body)
    }

    // MARK: Helpers

    /// A request that must be refused whatever its body (an ambiguous repeated header).
    static func refused(_ adapter: some PlatformAdapter, _ request: InboundRequest, path: String, what: String) -> Verdict {
        do throws(InboundRejection) {
            _ = try adapter.decode(request, path: path, now: now)
            return .violated(InvariantViolation("\(adapter.name) accepted \(what)"))
        } catch {
            return Invariants.verdict(Invariants.check(error), else: "refused \(error.status)")
        }
    }

    /// The payload cut at its first `count - 1` newlines into exactly `count` parts (missing ones empty).
    static func split(_ payload: [UInt8], into count: Int) -> [[UInt8]] {
        var parts = payload.split(separator: UInt8(ascii: "\n"), maxSplits: count - 1, omittingEmptySubsequences: false).map(Array.init)
        while parts.count < count { parts.append([]) }
        return parts
    }

    /// Bytes as text, invalid UTF-8 replaced (headers and query values are text by the time an adapter sees them).
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
