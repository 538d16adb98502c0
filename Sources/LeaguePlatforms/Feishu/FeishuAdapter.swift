import Crypto
import Foundation
import LeagueCore

/// Feishu / Lark (飞书).
///
/// Inbound (`/webhook/feishu`): event subscription, schema 2.0, request-URL mode.
/// * With an Encrypt Key the body is `{"encrypt": base64(iv ‖ AES-256-CBC(PKCS#7/16))}`, key =
///   SHA-256(Encrypt Key), and every event carries `X-Lark-Signature` = hex(SHA-256(timestamp +
///   nonce + Encrypt Key ‖ raw body)) with `X-Lark-Request-Timestamp` / `X-Lark-Request-Nonce`.
///   The signature is checked whenever it is sent and required for everything but
///   `url_verification` (which Feishu does not sign).
/// * The Verification Token is checked in every request (`header.token`, or top-level `token` for
///   `url_verification` and schema-1 events).
/// * `url_verification` is answered with plain JSON `{"challenge": …}`, even when it came encrypted.
/// * `im.message.receive_v1` text messages become a `ChatMessage`; other events are ignored.
///
/// Dedupe: `ChatMessage.messageID` is `event.message.message_id`, which stays the same when Feishu
/// re-pushes the message (even under a new `header.event_id`). The event id itself is available from
/// `open(_:now:)` as `FeishuEnvelope.eventID` for callers that also want to dedupe on it.
///
/// Outbound: the custom bot webhook `POST {base_url}/open-apis/bot/v2/hook/<hook>` with
/// `timestamp` + `sign` in the body when `hook_secret` is set (sign = Base64(HMAC-SHA256(key:
/// timestamp + "\n" + secret, message: empty))). Plain messages are `text` with mentions as
/// `<at user_id="…">name</at>`; markdown messages become `post` rich text. Limits: 100 a minute and
/// 5 a second per bot, body ≤ 20 KB.
public struct FeishuAdapter: PlatformAdapter {
    public let name = "feishu"
    public let verificationToken: String
    /// nil when no Encrypt Key is configured (plain events, no signatures).
    public let encryptKey: String?
    public let baseURL: String
    /// The bot's open_id (`ou_…`): the mention with this id is the bot's own.
    public let botOpenID: String?
    /// The bot's display name: used to recognise its mention when `botOpenID` is not set.
    public let botName: String?
    /// Largest accepted distance between `X-Lark-Request-Timestamp` and the server clock, seconds.
    /// Feishu documents no window and re-pushes for hours (an older doc: 5 s, 5 min, 1 h, 6 h),
    /// so the default of one day matches how long message ids are kept for dedupe.
    public let maxSkew: Double

    public static let defaultBaseURL = "https://open.feishu.cn"
    public static let maxBodyBytes = 20 * 1024

    public init(
        verificationToken: String, encryptKey: String?, baseURL: String = FeishuAdapter.defaultBaseURL,
        botOpenID: String? = nil, botName: String? = nil, maxSkew: Double = 86_400
    ) {
        self.verificationToken = verificationToken
        self.encryptKey = encryptKey.flatMap { $0.isEmpty ? nil : $0 }
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.botOpenID = botOpenID.flatMap { $0.isEmpty ? nil : $0 }
        self.botName = botName.flatMap { $0.isEmpty ? nil : $0 }
        self.maxSkew = maxSkew
    }

    public var rateLimit: RateLimit { RateLimit(perMinute: 100, perSecond: 5) }

    /// No webhook route without a verification token (long-connection-only setups).
    public var webhookPaths: [String] { verificationToken.isEmpty ? [] : [name] }

    /// The app (app_id) that posts into groups bound by chat only; nil without app credentials.
    public var appID: String?

    /// Groups without a custom-bot hook are posted to through the app: they share its limit of
    /// 50 a second and 1,000 a minute (im/v1/messages); each chat keeps `rateLimit` (5 a second).
    public func sharedRateLimit(for group: GroupBinding) -> (key: String, limit: RateLimit)? {
        guard let appID, (group.credentials["hook"] ?? "").isEmpty else { return nil }
        return ("feishu-app:\(appID)", RateLimit(perMinute: 1000, perSecond: 50))
    }

    public func ackHint(_ language: Language) -> String { mentionAckHint(botName: botName, language) }

    // MARK: Crypto

    /// SHA-256 of the Encrypt Key.
    public static func aesKey(encryptKey: String) -> [UInt8] { Array(SHA256.hash(data: Array(encryptKey.utf8))) }

    /// hex(SHA-256(timestamp + nonce + encryptKey ‖ body)).
    public static func signature(timestamp: String, nonce: String, encryptKey: String, body: some DataProtocol) -> String {
        var hasher = SHA256()
        hasher.update(data: Array((timestamp + nonce + encryptKey).utf8))
        hasher.update(data: Array(body))
        return Bytes.hex(hasher.finalize())
    }

    /// Decrypts an `encrypt` value: base64(iv ‖ ciphertext), strict PKCS#7/16.
    public static func decrypt(_ encrypt: String, encryptKey: String) throws(InboundRejection) -> [UInt8] {
        guard let bytes = WireText.base64Decode(encrypt) else { throw .badRequest("Feishu encrypt is not valid base64") }
        guard bytes.count >= 32 else { throw .badRequest("Feishu encrypt is too short: no ciphertext after the 16-byte IV") }
        guard (bytes.count - 16) % 16 == 0 else { throw .badRequest("Feishu ciphertext is not a whole number of 16-byte blocks") }
        guard let padded = AESCBC.decrypt(Array(bytes[16...]), key: aesKey(encryptKey: encryptKey), iv: Array(bytes[0..<16])) else {
            throw .badRequest("Feishu ciphertext could not be decrypted")
        }
        guard let plain = PKCS7.unpad(padded, block: 16) else {
            throw .badRequest("Feishu plaintext has invalid PKCS#7 padding (wrong Encrypt Key?)")
        }
        return plain
    }

    /// Encrypts like Feishu does, with a given IV (random when nil); for tests and tools.
    public static func encrypt(_ plaintext: [UInt8], encryptKey: String, iv: [UInt8]? = nil) -> String {
        let vector = iv.flatMap { $0.count == 16 ? $0 : nil } ?? WeComCrypto.randomBytes(16)
        let cipher = AESCBC.encrypt(PKCS7.pad(plaintext, block: 16), key: aesKey(encryptKey: encryptKey), iv: vector) ?? []
        return WireText.base64(vector + cipher)
    }

    // MARK: Inbound

    /// A verified, decrypted inbound request.
    public enum FeishuInbound: Sendable, Equatable {
        /// `url_verification`: answer with this challenge.
        case challenge(String)
        case event(FeishuEnvelope)
    }

    /// The parts of a schema-2.0 event the bot uses.
    public struct FeishuEnvelope: Sendable, Equatable {
        /// `header.event_id`: unique per push of an event.
        public var eventID: String
        public var eventType: String
        /// The decrypted event JSON.
        public var plaintext: Data
    }

    public func decode(_ request: InboundRequest, path: String, now: Date) throws(InboundRejection) -> InboundOutcome {
        switch try open(request, now: now) {
        case .challenge(let challenge):
            return .respond(.json(OutJSON.object([("challenge", .string(challenge))]).text))
        case .event(let envelope):
            guard envelope.eventType == "im.message.receive_v1" else {
                return .ignore(reason: "Feishu event \(envelope.eventType) is not handled", reply: Self.okReply)
            }
            guard let json = JSONValue.parse(envelope.plaintext) else { throw .badRequest("Feishu event is not JSON") }
            return try decodeMessage(json, now: now)
        }
    }

    static let okReply = PlainResponse.json("{}")

    /// The one rejection for an encrypted event that cannot be decrypted or read: same status and
    /// same leading text whatever failed, so the answer tells nothing about the plaintext.
    static func unreadable(_ detail: String) -> InboundRejection {
        .badRequest("Feishu encrypted event could not be read (\(detail))")
    }

    /// Verifies (signature, token) and decrypts a request without interpreting the event.
    public func open(_ request: InboundRequest, now: Date) throws(InboundRejection) -> FeishuInbound {
        guard request.method.uppercased() == "POST" else { throw InboundRejection(status: 405, reason: "Feishu events use POST") }
        guard let outer = JSONValue.parse(request.body), outer.isObject else {
            throw .badRequest("Feishu event body is not a JSON object")
        }
        let givenSignature = try request.header("X-Lark-Signature")
        var signed = false
        if let encryptKey, let givenSignature {
            guard let timestamp = try request.header("X-Lark-Request-Timestamp"), let nonce = try request.header("X-Lark-Request-Nonce") else {
                throw .unauthorized("Feishu X-Lark-Signature came without X-Lark-Request-Timestamp / X-Lark-Request-Nonce")
            }
            let expected = Self.signature(timestamp: timestamp, nonce: nonce, encryptKey: encryptKey, body: request.body)
            guard Bytes.constantTimeEqual(Array(givenSignature.lowercased().utf8), Array(expected.utf8)) else {
                throw .unauthorized("Feishu X-Lark-Signature does not match the raw body (wrong Encrypt Key or altered body)")
            }
            guard let seconds = Double(timestamp), abs(seconds - now.timeIntervalSince1970) <= maxSkew else {
                throw .unauthorized("Feishu X-Lark-Request-Timestamp is more than \(Int(maxSkew)) s away from the server clock (replay?)")
            }
            signed = true
        }
        if encryptKey != nil, !signed {
            // Nothing unsigned is decrypted or read further (no padding oracle); only the plain
            // url_verification challenge, which carries no signature, is answered.
            guard outer["encrypt"] == nil, outer.text("type") == "url_verification" else {
                throw .unauthorized("Feishu request has no X-Lark-Signature although an Encrypt Key is configured")
            }
        }
        let event: JSONValue
        let plaintext: Data
        if let encrypt = outer["encrypt"] {
            guard let encryptKey else {
                throw .badRequest("Feishu sent an encrypted event but no encrypt_key is configured")
            }
            // Every decrypt or parse failure gets the same answer (the detail goes to the log only).
            guard let cipher = encrypt.string else { throw Self.unreadable("encrypt is not a string") }
            let plain: [UInt8]
            do throws(InboundRejection) { plain = try Self.decrypt(cipher, encryptKey: encryptKey) } catch { throw Self.unreadable(error.reason) }
            guard let inner = JSONValue.parse(plain), inner.isObject else { throw Self.unreadable("decrypted event is not a JSON object") }
            event = inner
            plaintext = Data(plain)
        } else {
            event = outer
            plaintext = request.body
        }
        if event.text("type") == "url_verification" {
            // The token is top-level in the documented challenge; some schema-2.0 payloads carry it in the header.
            guard let token = event["token"]?.string ?? event["header"]?["token"]?.string, Bytes.constantTimeEqual(Array(token.utf8), Array(verificationToken.utf8)) else {
                throw .unauthorized("Feishu url_verification token does not match the verification_token")
            }
            guard let challenge = event["challenge"]?.string else { throw .badRequest("Feishu url_verification has no challenge") }
            return .challenge(challenge)
        }
        let header = event["header"]
        guard let token = header?["token"]?.string ?? event["token"]?.string,
            Bytes.constantTimeEqual(Array(token.utf8), Array(verificationToken.utf8))
        else {
            throw .unauthorized("Feishu event token does not match the verification_token")
        }
        if encryptKey != nil, !signed {
            throw .unauthorized("Feishu event has no X-Lark-Signature although an Encrypt Key is configured")
        }
        guard let header else {
            // Schema 1.0 event: authenticated, but the bot only reads schema 2.0.
            let type = event["event"]?.text("type") ?? event.text("type") ?? "unknown"
            return .event(FeishuEnvelope(eventID: event.text("uuid") ?? "", eventType: "v1:\(type)", plaintext: plaintext))
        }
        guard let eventID = header.text("event_id"), let eventType = header.text("event_type") else {
            throw .badRequest("Feishu event header lacks event_id or event_type")
        }
        return .event(FeishuEnvelope(eventID: eventID, eventType: eventType, plaintext: plaintext))
    }

    func decodeMessage(_ json: JSONValue, now: Date) throws(InboundRejection) -> InboundOutcome {
        guard let message = json["event"]?["message"] else { throw .badRequest("Feishu im.message.receive_v1 has no event.message") }
        let type = message.text("message_type") ?? ""
        guard type == "text" else {
            return .ignore(reason: "Feishu message_type \(type.isEmpty ? "(none)" : type) is not handled", reply: Self.okReply)
        }
        guard let messageID = message.text("message_id") else { throw .badRequest("Feishu message has no message_id") }
        guard let chatID = message.text("chat_id") else { throw .badRequest("Feishu message has no chat_id") }
        let senderID = json["event"]?["sender"]?["sender_id"]
        guard let sender = senderID?.text("open_id") ?? senderID?.text("user_id") ?? senderID?.text("union_id") else {
            throw .badRequest("Feishu message has no sender id")
        }
        guard let contentText = message["content"]?.string, let content = JSONValue.parse(Data(contentText.utf8)),
            let raw = content["text"]?.string
        else {
            throw .badRequest("Feishu text message content is not the JSON string {\"text\": …}")
        }
        let mentions = (message["mentions"]?.array ?? []).compactMap { item -> FeishuMention? in
            guard let key = item.text("key") else { return nil }
            return FeishuMention(key: key, openID: item["id"]?.text("open_id"), name: item["name"]?.string ?? "")
        }
        let resolved = resolveMentions(raw, mentions: mentions)
        let isP2P = message.text("chat_type") == "p2p"
        let sentAt = message["create_time"]?.int64.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? now
        let chatMessage = ChatMessage(
            platform: name, chat: chatID, sender: sender, text: resolved.text,
            messageID: messageID, sentAt: sentAt, mentionsBot: isP2P || resolved.mentionsBot
        )
        return .message(try InboundLimits.check(chatMessage), reply: Self.okReply)
    }

    struct FeishuMention: Sendable, Equatable {
        var key: String
        var openID: String?
        var name: String
    }

    /// Replaces `@_user_N` placeholders: the bot's own mention is removed, others become `@name`.
    /// The bot's mention is the one with `botOpenID`; failing that, the one named `botName`;
    /// failing that (neither configured), a mention that opens the text ("@bot command").
    func resolveMentions(_ raw: String, mentions: [FeishuMention]) -> (text: String, mentionsBot: Bool) {
        let botKey: String?
        if let botOpenID {
            botKey = mentions.first { $0.openID == botOpenID }?.key
        } else if let botName {
            botKey = mentions.first { $0.name == botName }?.key
        } else {
            let start = WireText.trim(raw)
            botKey = mentions.sorted { $0.key.count > $1.key.count }.first { start.hasPrefix($0.key) }?.key
        }
        var text = raw
        // Longest keys first so "@_user_1" does not eat the start of "@_user_10".
        for mention in mentions.sorted(by: { $0.key.count > $1.key.count }) {
            if mention.key == botKey {
                text = text.replacingOccurrences(of: mention.key + " ", with: "")
                text = text.replacingOccurrences(of: mention.key, with: "")
            } else {
                text = text.replacingOccurrences(of: mention.key, with: "@" + mention.name)
            }
        }
        return (WireText.trim(text), botKey != nil)
    }

    // MARK: Outbound

    /// Base64(HMAC-SHA256(key: timestamp + "\n" + secret, message: empty)) — the custom bot sign.
    public static func botSign(timestampSeconds: String, secret: String) -> String {
        WireText.base64(Bytes.hmacSHA256(key: Array((timestampSeconds + "\n" + secret).utf8), message: [UInt8]()))
    }

    public func encode(_ message: OutboundMessage, now: Date) throws(EncodeError) -> OutboundRequest {
        guard let hook = message.group.credentials["hook"], !hook.isEmpty else {
            throw EncodeError("Feishu group \(message.group.chat) has no hook credential")
        }
        let url =
            hook.hasPrefix("https://") || hook.hasPrefix("http://")
            ? hook : "\(baseURL)/open-apis/bot/v2/hook/\(WireText.percentEncode(hook))"
        let timestamp = String(Int64(now.timeIntervalSince1970.rounded(.down)))
        let data = try body(for: message, timestampSeconds: timestamp, secret: message.group.credentials["hook_secret"]).data
        return OutboundRequest(url: url, headers: ["Content-Type": "application/json"], body: data)
    }

    /// The JSON body; when it exceeds 20 KB the text is cut at a character boundary (ending in
    /// "…") to the longest prefix whose body fits, found by bisection since escaping makes the
    /// body grow faster than the text.
    func body(for message: OutboundMessage, timestampSeconds: String, secret: String?) throws(EncodeError) -> OutJSON {
        func build(_ text: String) -> OutJSON {
            Self.body(text: text, message: message, timestampSeconds: timestampSeconds, secret: secret)
        }
        let whole = build(message.text)
        if whole.data.count <= Self.maxBodyBytes { return whole }
        let characters = Array(message.text)
        var low = 0, high = characters.count - 1  // invariant: prefix(low) fits (checked below), prefix(high + 1) does not
        var best: OutJSON?
        while low <= high {
            let middle = (low + high) / 2
            let candidate = build(String(characters[0..<middle]) + "…")
            if candidate.data.count <= Self.maxBodyBytes {
                best = candidate
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        guard let best else { throw EncodeError("Feishu message \(message.key) does not fit the 20 KB body limit") }
        return best
    }

    private static func body(text: String, message: OutboundMessage, timestampSeconds: String, secret: String?) -> OutJSON {
        var members: [(String, OutJSON)] = []
        if let secret, !secret.isEmpty {
            members.append(("timestamp", .string(timestampSeconds)))
            members.append(("sign", .string(botSign(timestampSeconds: timestampSeconds, secret: secret))))
        }
        let (msgType, content) = content(text: text, message: message, spaceBeforeMentions: true)
        members.append(("msg_type", .string(msgType)))
        // The custom bot nests a post's languages under `post`; the app API takes them at the top.
        members.append(("content", msgType == "post" ? .object([("post", content)]) : content))
        return .object(members)
    }

    /// A message as Feishu's `msg_type` and `content`: `text` with each mention as `<at user_id="…">name</at>`
    /// (an open_id, user_id or `all`), or for markdown a `post` (its `zh_cn` rich text: a first `#` line is the
    /// title, each line a paragraph, the last one ending with `at` elements, after a space when `spaceBeforeMentions`).
    static func content(text: String, message: OutboundMessage, spaceBeforeMentions: Bool) -> (msgType: String, content: OutJSON) {
        let mentions = message.mentions.compactMap { mention -> (id: String, name: String)? in
            guard let id = mention.userID, !id.isEmpty else { return nil }
            return id == "@all" || id == "all" ? ("all", mention.name.isEmpty ? "所有人" : mention.name) : (id, mention.name)
        }
        if message.markdown {
            var lines = text.components(separatedBy: "\n")
            var title = ""
            if let first = lines.first, first.hasPrefix("#") {
                title = WireText.trim(String(first.drop { $0 == "#" }))
                lines.removeFirst()
            }
            if lines.isEmpty { lines = [""] }
            var paragraphs: [[OutJSON]] = lines.map { [.object([("tag", .string("text")), ("text", .string($0))])] }
            if !mentions.isEmpty {
                let last = paragraphs.count - 1
                if spaceBeforeMentions { paragraphs[last] = [.object([("tag", .string("text")), ("text", .string(lines[last] + " "))])] }
                paragraphs[last] += mentions.map { .object([("tag", .string("at")), ("user_id", .string($0.id))]) }
            }
            return ("post", .object([("zh_cn", .object([("title", .string(title)), ("content", .array(paragraphs.map(OutJSON.array)))]))]))
        }
        var content = text
        for mention in mentions where !content.contains("<at user_id=\"\(mention.id)\"") {
            content += " <at user_id=\"\(escapeXML(mention.id))\">\(escapeXML(mention.name))</at>"
        }
        return ("text", .object([("text", .string(content))]))
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    // MARK: Answers

    /// code 0 delivered; 11232 (flow control), 230020 (per-chat limit), and 9499 when its msg says
    /// "too many request" are rate limited; 9499 "Bad Request", 19021 (sign / timestamp), 19022 (IP),
    /// 19024 (keywords) and other codes are permanent. HTTP 429 is rate limited, 5xx retried.
    /// Older hooks answer `{"StatusCode": 0, "StatusMessage": "success"}`, which is read too.
    public func classify(_ response: OutboundResponse) -> DeliveryOutcome {
        let json = JSONValue.parse(response.body)
        let code = json?["code"]?.int64 ?? json?["StatusCode"]?.int64
        let msg = json?["msg"]?.string ?? json?["StatusMessage"]?.string ?? ""
        if response.status == 429 { return .rateLimited(retryAfter: nil, "Feishu HTTP 429 \(msg)") }
        guard let code else {
            return response.status == 200 ? .retryLater("Feishu answered HTTP 200 without a code") : classifyByStatus(response)
        }
        let detail = "Feishu code \(code): \(msg)"
        switch code {
        case 0:
            return response.status == 200 ? .delivered : classifyByStatus(response)
        case 11232, 230020:
            return .rateLimited(retryAfter: 1, detail)
        case 9499 where msg.lowercased().contains("too many"):
            return .rateLimited(retryAfter: 1, detail)
        default:
            if response.status >= 500 { return .retryLater(detail) }
            return .permanentFailure(detail)
        }
    }
}
