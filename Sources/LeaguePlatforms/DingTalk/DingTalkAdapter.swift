import Foundation
import LeagueCore

/// DingTalk (钉钉).
///
/// Inbound (`/webhook/dingtalk`): the enterprise-internal app robot in HTTP mode. DingTalk POSTs
/// plain JSON when the robot is @-mentioned in a group (or written to directly) with headers
/// `timestamp` (ms) and `sign` = Base64(HMAC-SHA256(key: app secret, timestamp + "\n" + app secret)).
/// The sign covers only the timestamp, not the body, so a captured header pair forges any body for
/// the window: the window is `platforms.dingtalk.max_skew` (default 5 minutes, not DingTalk's hour),
/// `chatbotCorpId` / `robotCode` must match `corp_id` / `robot_code` when those are configured, and
/// dedupe on `msgId` stops replays of the same message.
///
/// Outbound: the custom robot with 加签, `POST {base_url}/robot/send?access_token=T&timestamp=MS&sign=S`
/// (`robot_token`, optional `robot_secret`), `text` or `markdown` bodies with `at.atMobiles` /
/// `at.atUserIds`. Limit: 20 messages a minute per robot, then a 10-minute block.
public struct DingTalkAdapter: PlatformAdapter {
    public let name = "dingtalk"
    public let appSecret: String
    public let baseURL: String
    /// The app robot (Stream mode): groups bound by chat only are sent through the OpenAPI.
    public let app: DingTalkApp?
    public let botName: String?
    /// Largest accepted distance between the `timestamp` header and the server clock, ms.
    public let maxSkewMS: Int64
    /// When set, a callback's `chatbotCorpId` must equal it.
    public let corpID: String?
    /// When set, a callback's `robotCode` must equal it.
    public let robotCode: String?

    public static let defaultBaseURL = "https://oapi.dingtalk.com"
    /// The default window: 5 minutes.
    public static let defaultMaxSkewMS: Int64 = 300_000
    /// The new OpenAPI host: Stream gateway bootstrap, access tokens, app robot messages.
    public static let defaultAPIBaseURL = "https://api.dingtalk.com"

    public init(
        appSecret: String, baseURL: String = DingTalkAdapter.defaultBaseURL, botName: String? = nil, maxSkewMS: Int64 = DingTalkAdapter.defaultMaxSkewMS,
        corpID: String? = nil, robotCode: String? = nil, app: DingTalkApp? = nil
    ) {
        self.appSecret = appSecret
        self.app = app
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.botName = botName.flatMap { $0.isEmpty ? nil : $0 }
        self.maxSkewMS = maxSkewMS
        self.corpID = corpID.flatMap { $0.isEmpty ? nil : $0 }
        self.robotCode = robotCode.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var rateLimit: RateLimit { RateLimit(perMinute: 20) }

    /// Groups without a custom robot are sent through the app: all of them share the app's API limit.
    public func sharedRateLimit(for group: GroupBinding) -> (key: String, limit: RateLimit)? {
        guard let app, (group.credentials["robot_token"] ?? "").isEmpty else { return nil }
        return ("dingtalk-app:\(app.robotCode)", DingTalkApp.appRateLimit)
    }

    public func ackHint(_ language: Language) -> String { mentionAckHint(botName: botName, language) }

    /// Base64(HMAC-SHA256(key: secret, message: timestamp + "\n" + secret)) — the inbound robot sign
    /// (with the app secret) and the custom-robot 加签 (with the `SEC…` secret) alike.
    public static func sign(timestamp: String, secret: String) -> String {
        WireText.base64(Bytes.hmacSHA256(key: Array(secret.utf8), message: Array((timestamp + "\n" + secret).utf8)))
    }

    // MARK: Inbound

    public func decode(_ request: InboundRequest, path: String, now: Date) throws(InboundRejection) -> InboundOutcome {
        guard request.method.uppercased() == "POST" else { throw InboundRejection(status: 405, reason: "DingTalk robot callbacks use POST") }
        guard let timestamp = try request.header("timestamp"), !timestamp.isEmpty else {
            throw .unauthorized("DingTalk callback has no timestamp header")
        }
        guard let given = try request.header("sign"), !given.isEmpty else {
            throw .unauthorized("DingTalk callback has no sign header")
        }
        guard let milliseconds = Int64(timestamp) else {
            throw .unauthorized("DingTalk timestamp header \(timestamp) is not a millisecond number")
        }
        let nowMS = Self.milliseconds(now)
        guard milliseconds.distance(to: nowMS).magnitude <= maxSkewMS.magnitude else {
            throw .unauthorized("DingTalk timestamp is more than \(maxSkewMS / 1000) s away from the server clock (replay?)")
        }
        let expected = Self.sign(timestamp: timestamp, secret: appSecret)
        guard Bytes.constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else {
            throw .unauthorized("DingTalk sign does not match (wrong app secret?)")
        }
        guard let json = JSONValue.parse(request.body), json.isObject else {
            throw .badRequest("DingTalk callback body is not a JSON object")
        }
        return try decodeMessage(json, now: now)
    }

    /// Decodes a robot message object: the body of an HTTP-mode callback, or the `data` of a Stream
    /// push on topic `/v1.0/im/bot/messages/get` (the same object; the socket was authenticated).
    func decodeMessage(_ json: JSONValue, now: Date) throws(InboundRejection) -> InboundOutcome {
        if let corpID, json.text("chatbotCorpId") != corpID {
            throw .unauthorized("DingTalk chatbotCorpId \(json.text("chatbotCorpId") ?? "(none)") is not the configured corp_id")
        }
        if let robotCode, json.text("robotCode") != robotCode {
            throw .unauthorized("DingTalk robotCode \(json.text("robotCode") ?? "(none)") is not the configured robot_code")
        }
        let msgtype = json.text("msgtype") ?? ""
        guard msgtype == "text" else {
            return .ignore(reason: "DingTalk msgtype \(msgtype.isEmpty ? "(none)" : msgtype) is not handled", reply: Self.okReply)
        }
        guard let content = json["text"]?["content"]?.string else { throw .badRequest("DingTalk text message has no text.content") }
        guard let msgID = json.text("msgId") else { throw .badRequest("DingTalk message has no msgId") }
        guard let conversationID = json.text("conversationId") else { throw .badRequest("DingTalk message has no conversationId") }
        guard let sender = json.text("senderStaffId") ?? json.text("senderId") else {
            throw .badRequest("DingTalk message has neither senderStaffId nor senderId")
        }
        let sentAt = json["createAt"]?.int64.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? now
        let message = ChatMessage(
            platform: name, chat: conversationID, sender: sender, text: WireText.trim(content),
            messageID: msgID, sentAt: sentAt, mentionsBot: true
        )
        return .message(try InboundLimits.check(message), reply: Self.okReply)
    }

    /// The answer to an accepted callback: an empty JSON object (no reply through the response body).
    static let okReply = PlainResponse.json("{}")

    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite, abs(value) < 9.0e15 else { return 0 }
        return Int64(value)
    }

    // MARK: Outbound

    /// `{base}/robot/send?access_token=T`, plus `&timestamp=MS&sign=S` (URL-encoded) when a secret is set.
    public func robotURL(token: String, secret: String?, timestampMS: Int64) -> String {
        var url = "\(baseURL)/robot/send?access_token=\(WireText.percentEncode(token))"
        if let secret, !secret.isEmpty {
            let timestamp = String(timestampMS)
            url += "&timestamp=\(timestamp)&sign=\(WireText.percentEncode(Self.sign(timestamp: timestamp, secret: secret)))"
        }
        return url
    }

    public func encode(_ message: OutboundMessage, now: Date) throws(EncodeError) -> OutboundRequest {
        guard let token = message.group.credentials["robot_token"], !token.isEmpty else {
            // No custom robot for this group: the app robot speaks (Stream mode), if configured.
            if let app { return try app.encode(message) }
            throw EncodeError("DingTalk group \(message.group.chat) has no robot_token credential (and no app: set platforms.dingtalk.mode: stream with client_id/client_secret)")
        }
        let url = robotURL(token: token, secret: message.group.credentials["robot_secret"], timestampMS: Self.milliseconds(now))
        return OutboundRequest(url: url, headers: ["Content-Type": "application/json"], body: body(for: message).data)
    }

    /// The JSON body: `text` keeps the content as written (DingTalk renders the @ of listed people);
    /// `markdown` gets the missing `@mobile` / `@userid` appended, since markdown only highlights
    /// mentions written in the text. The title is the first line without `#`.
    func body(for message: OutboundMessage) -> OutJSON {
        var (userIDs, mobiles) = message.mentionedIDs
        let atAll = userIDs.contains { $0 == "@all" || $0 == "all" }
        userIDs.removeAll { $0 == "@all" || $0 == "all" }
        var at: [(String, OutJSON)] = []
        if !mobiles.isEmpty { at.append(("atMobiles", .array(mobiles.map(OutJSON.string)))) }
        if !userIDs.isEmpty { at.append(("atUserIds", .array(userIDs.map(OutJSON.string)))) }
        at.append(("isAtAll", .bool(atAll)))
        if message.markdown {
            var text = message.text
            let missing = (mobiles + userIDs).map { "@" + $0 }.filter { !text.contains($0) }
            if !missing.isEmpty { text += " " + missing.joined(separator: " ") }
            return .object([
                ("msgtype", .string("markdown")),
                ("markdown", .object([("title", .string(Self.title(of: message.text))), ("text", .string(text))])),
                ("at", .object(at)),
            ])
        }
        return .object([("msgtype", .string("text")), ("text", .object([("content", .string(message.text))])), ("at", .object(at))])
    }

    /// The first non-empty line without leading `#` and spaces, at most 64 characters.
    static func title(of text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let stripped = WireText.trim(String(line.drop { $0 == "#" || WireText.isSpace($0) }))
        let title = stripped.isEmpty ? WireText.trim(line) : stripped
        return String(title.prefix(64))
    }

    // MARK: Answers

    /// errcode 0 delivered; 130101 ("send too fast, exceed 20 times per minute") and 660026 rate
    /// limited (the robot is blocked for 10 minutes); -1 system busy retried; 310000 (keyword /
    /// sign / timestamp / IP security failure), 300001 and 300005 (invalid or missing token) and any
    /// other errcode are permanent. Non-200 HTTP: 5xx retried, 429 rate limited.
    public func classify(_ response: OutboundResponse) -> DeliveryOutcome {
        // The app's OpenAPI answers `{processQueryKey}` or `{code, message}`; the custom robot `{errcode, errmsg}`.
        DingTalkApp.classify(response) ?? classifyErrcode(response, vendor: "DingTalk", rateLimited: [130101, 660026], retryAfter: 600)
    }
}
