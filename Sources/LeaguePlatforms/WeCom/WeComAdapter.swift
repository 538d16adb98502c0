import Foundation
import LeagueCore

/// WeCom (企业微信).
///
/// Inbound, two webhook paths (below `/webhook/`):
/// * `wecom` — the 智能机器人 (AI bot) in API mode, the path that carries **group** messages
///   (the bot receives a group message only when it is @-mentioned). GET = URL verification,
///   POST = `{"encrypt": …}` whose plaintext is JSON. Receive id is the empty string.
///   `ChatMessage.chat` is the `chatid`; a single chat with the bot (no `chatid`) becomes
///   `single:<userid>`.
/// * `wecom-app` — the self-built application's XML callback. It only carries messages sent to
///   the app itself (no group id exists there), so `ChatMessage.chat` is `app:<FromUserName>`.
///   Receive id is the CorpID.
///
/// Both paths check `msg_signature`, decrypt strictly (see `WeComCrypto`) and refuse a
/// `timestamp` more than `maxSkew` seconds from the server clock (WeCom itself does not check
/// freshness; the timestamp is covered by the signature, so this stops late replays).
///
/// Outbound: the group robot webhook (`消息推送`, formerly 群机器人)
/// `POST {base_url}/cgi-bin/webhook/send?key=<robot_key>`, `text` (≤ 2048 UTF-8 bytes, mentions in
/// `mentioned_list` / `mentioned_mobile_list`) or `markdown` (≤ 4096 bytes, mentions as `<@userid>`
/// in the content because the lists are ignored for markdown). Longer content is cut at a
/// character boundary and ends with "…". Limit: 20 messages a minute per robot.
public struct WeComAdapter: PlatformAdapter {
    public let name = "wecom"
    public var webhookPaths: [String] { webhookEnabled ? [Self.aiBotPath, Self.appPath] : [] }
    /// False in long-connection-only setups (no callback token / key configured).
    public var webhookEnabled = true
    /// The AI bot's id when it speaks over its long connection (groups bound by chat only).
    public var aiBotID: String?

    /// Groups without a robot_key are posted to with `aibot_send_msg`: they share one bot, modelled
    /// at 10 a second (not documented); each chat keeps `rateLimit` (20 a minute).
    public func sharedRateLimit(for group: GroupBinding) -> (key: String, limit: RateLimit)? {
        guard let aiBotID, (group.credentials["robot_key"] ?? "").isEmpty else { return nil }
        return ("wecom-aibot:\(aiBotID)", RateLimit(perSecond: 10))
    }
    public static let aiBotPath = "wecom"
    public static let appPath = "wecom-app"

    /// Crypto for the 智能机器人 callback (`wecom`).
    public let botCrypto: WeComCrypto
    /// Crypto for the self-built app callback (`wecom-app`); the same token/key unless configured apart.
    public let appCrypto: WeComCrypto
    public let corpID: String
    public let baseURL: String
    /// The bot's display name; when set, "@<name>" is removed wherever it stands in the text.
    public let botName: String?
    /// Largest accepted distance between the request `timestamp` and the server clock, seconds.
    public let maxSkew: Double

    public static let textMaxBytes = 2048
    public static let markdownMaxBytes = 4096
    public static let defaultBaseURL = "https://qyapi.weixin.qq.com"

    public init(
        botCrypto: WeComCrypto, appCrypto: WeComCrypto? = nil, corpID: String,
        baseURL: String = WeComAdapter.defaultBaseURL, botName: String? = nil, maxSkew: Double = 3600
    ) {
        self.botCrypto = botCrypto
        self.appCrypto = appCrypto ?? botCrypto
        self.corpID = corpID
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.botName = botName.flatMap { $0.isEmpty ? nil : $0 }
        self.maxSkew = maxSkew
    }

    public var rateLimit: RateLimit { RateLimit(perMinute: 20) }

    public func ackHint(_ language: Language) -> String { mentionAckHint(botName: botName, language) }

    // MARK: Inbound

    public func decode(_ request: InboundRequest, path: String, now: Date) throws(InboundRejection) -> InboundOutcome {
        guard path == Self.aiBotPath || path == Self.appPath else { throw InboundRejection(status: 404, reason: "WeCom has no webhook path \(path)") }
        let isApp = path == Self.appPath
        let crypto = isApp ? appCrypto : botCrypto
        let receiveID = isApp ? corpID : ""
        let signature = try required(request, "msg_signature")
        let timestamp = try required(request, "timestamp")
        let nonce = try required(request, "nonce")
        guard let seconds = Double(timestamp), seconds.isFinite else {
            throw .unauthorized("WeCom timestamp \(timestamp) is not a number")
        }
        switch request.method.uppercased() {
        case "GET":
            let echo = try required(request, "echostr")
            try crypto.verify(signature: signature, timestamp: timestamp, nonce: nonce, encrypt: echo)
            try checkFresh(seconds, now: now)
            let opened = try crypto.open(echo, receiveID: receiveID)
            guard let plain = String(bytes: opened.message, encoding: .utf8) else {
                throw .badRequest("WeCom echostr plaintext is not UTF-8")
            }
            return .respond(.text(plain))
        case "POST":
            let encrypt = isApp ? try xmlEncrypt(request.body) : try jsonEncrypt(request.body)
            try crypto.verify(signature: signature, timestamp: timestamp, nonce: nonce, encrypt: encrypt)
            try checkFresh(seconds, now: now)
            let opened = try crypto.open(encrypt, receiveID: receiveID)
            return isApp ? try decodeApp(opened.message, now: now) : try decodeAIBot(opened.message, now: now)
        default:
            throw InboundRejection(status: 405, reason: "WeCom callbacks use GET (URL verification) or POST")
        }
    }

    /// Empty 200: acknowledges the push without a passive reply (the answer goes out through the robot).
    static let emptyReply = PlainResponse.text("")

    private func required(_ request: InboundRequest, _ key: String) throws(InboundRejection) -> String {
        guard let value = request.query[key], !value.isEmpty else {
            throw .badRequest("WeCom callback is missing the \(key) query parameter")
        }
        return value
    }

    private func checkFresh(_ seconds: Double, now: Date) throws(InboundRejection) {
        guard abs(seconds - now.timeIntervalSince1970) <= maxSkew else {
            throw .unauthorized("WeCom timestamp is more than \(Int(maxSkew)) s away from the server clock (replay?)")
        }
    }

    private func jsonEncrypt(_ body: Data) throws(InboundRejection) -> String {
        guard let json = JSONValue.parse(body), json.isObject else {
            throw .badRequest("WeCom AI-bot callback body is not a JSON object")
        }
        guard let encrypt = json.text("encrypt") else { throw .badRequest("WeCom AI-bot callback has no encrypt member") }
        return encrypt
    }

    private func xmlEncrypt(_ body: Data) throws(InboundRejection) -> String {
        guard let text = String(data: body, encoding: .utf8), let fields = FlatXML.parse(text) else {
            throw .badRequest("WeCom app callback body is not the expected <xml> envelope")
        }
        guard let encrypt = fields["Encrypt"], !encrypt.isEmpty else {
            throw .badRequest("WeCom app callback has no <Encrypt> element")
        }
        return encrypt
    }

    /// The `body` of an `aibot_msg_callback` pushed over the AI bot's long connection: the same
    /// JSON object as the decrypted callback.
    public func decodePushedAIBot(_ body: Data, now: Date) throws(InboundRejection) -> InboundOutcome {
        try decodeAIBot(Array(body), now: now)
    }

    /// The 智能机器人 message: `msgid`, `chatid`, `chattype`, `from.userid`, `msgtype`, `text.content`.
    private func decodeAIBot(_ plaintext: [UInt8], now: Date) throws(InboundRejection) -> InboundOutcome {
        guard let json = JSONValue.parse(plaintext), json.isObject else {
            throw .badRequest("WeCom AI-bot plaintext is not a JSON object")
        }
        let msgtype = json.text("msgtype") ?? ""
        let content: String
        switch msgtype {
        case "text":
            guard let text = json["text"]?["content"]?.string else { throw .badRequest("WeCom AI-bot text message has no text.content") }
            content = text
        case "mixed":
            // Text and images together: keep the text items.
            let items = json["mixed"]?["msg_item"]?.array ?? []
            content = items.compactMap { $0.text("msgtype") == "text" ? $0["text"]?["content"]?.string : nil }.joined(separator: "\n")
            if content.isEmpty { return .ignore(reason: "WeCom AI-bot mixed message without text", reply: Self.emptyReply) }
        default:
            return .ignore(reason: "WeCom AI-bot \(msgtype.isEmpty ? "message without msgtype" : "msgtype \(msgtype)") is not handled", reply: Self.emptyReply)
        }
        guard let msgid = json.text("msgid") else { throw .badRequest("WeCom AI-bot message has no msgid") }
        guard let sender = json["from"]?.text("userid") else { throw .badRequest("WeCom AI-bot message has no from.userid") }
        let isGroup = json.text("chattype") == "group"
        let chat: String
        if let chatid = json.text("chatid") {
            chat = chatid
        } else if isGroup {
            throw .badRequest("WeCom AI-bot group message has no chatid")
        } else {
            chat = "single:\(sender)"
        }
        let message = ChatMessage(
            platform: name, chat: chat, sender: sender, text: stripBotMention(content, isGroup: isGroup),
            messageID: msgid, sentAt: now, mentionsBot: true
        )
        return .message(try InboundLimits.check(message), reply: Self.emptyReply)
    }

    /// Removes the bot's @-mention: "@<botName>" anywhere when the name is configured, otherwise a
    /// leading "@word" in a group message (the AI bot is only called when mentioned; the doc sample
    /// keeps "@BotName" at the start of `text.content`).
    func stripBotMention(_ text: String, isGroup: Bool) -> String {
        if let botName, let range = text.range(of: "@" + botName) {
            var result = text
            result.removeSubrange(range)
            return WireText.trim(result)
        }
        let trimmed = WireText.trim(text)
        guard isGroup, trimmed.hasPrefix("@") else { return trimmed }
        guard let end = trimmed.firstIndex(where: WireText.isSpace) else { return "" }
        return WireText.trim(String(trimmed[end...]))
    }

    /// The self-built app's XML message: `FromUserName`, `CreateTime`, `MsgType`, `Content`, `MsgId`.
    private func decodeApp(_ plaintext: [UInt8], now: Date) throws(InboundRejection) -> InboundOutcome {
        guard let text = String(bytes: plaintext, encoding: .utf8), let fields = FlatXML.parse(text) else {
            throw .badRequest("WeCom app plaintext is not the expected <xml> message")
        }
        let msgType = fields["MsgType"] ?? ""
        guard msgType == "text" else {
            return .ignore(reason: "WeCom app \(msgType.isEmpty ? "message without MsgType" : "MsgType \(msgType)") is not handled", reply: Self.emptyReply)
        }
        guard let sender = fields["FromUserName"], !sender.isEmpty else { throw .badRequest("WeCom app message has no FromUserName") }
        guard let msgID = fields["MsgId"], !msgID.isEmpty else { throw .badRequest("WeCom app message has no MsgId") }
        // Whole seconds only: Double("inf") or "nan" would make a sent time no store can keep.
        let sentAt = fields["CreateTime"].flatMap { Int64($0) }.map { Date(timeIntervalSince1970: Double($0)) } ?? now
        let message = ChatMessage(
            platform: name, chat: "app:\(sender)", sender: sender, text: WireText.trim(fields["Content"] ?? ""),
            messageID: msgID, sentAt: sentAt, mentionsBot: true
        )
        return .message(try InboundLimits.check(message), reply: Self.emptyReply)
    }

    // MARK: Outbound

    public func encode(_ message: OutboundMessage, now: Date) throws(EncodeError) -> OutboundRequest {
        guard let key = message.group.credentials["robot_key"], !key.isEmpty else {
            throw EncodeError("WeCom group \(message.group.chat) has no robot_key credential")
        }
        let url = "\(baseURL)/cgi-bin/webhook/send?key=\(WireText.percentEncode(key))"
        return OutboundRequest(url: url, headers: ["Content-Type": "application/json"], body: body(for: message).data)
    }

    /// The JSON body for a message (exposed for tests).
    func body(for message: OutboundMessage) -> OutJSON {
        if message.markdown {
            // The mention lists are ignored for markdown: mention inline with <@userid>.
            var tags = ""
            for mention in message.mentions {
                if let userID = mention.userID, !userID.isEmpty {
                    let tag = "<@\(userID)>"
                    if !message.text.contains(tag) { tags += (tags.isEmpty ? "" : " ") + tag }
                }
            }
            let suffix = tags.isEmpty ? "" : "\n" + tags
            let content = WireText.cut(message.text, maxBytes: max(0, Self.markdownMaxBytes - suffix.utf8.count)) + suffix
            return .object([("msgtype", .string("markdown")), ("markdown", .object([("content", .string(content))]))])
        }
        let (userIDs, mobiles) = message.mentionedIDs
        var text: [(String, OutJSON)] = [("content", .string(WireText.cut(message.text, maxBytes: Self.textMaxBytes)))]
        if !userIDs.isEmpty { text.append(("mentioned_list", .array(userIDs.map(OutJSON.string)))) }
        if !mobiles.isEmpty { text.append(("mentioned_mobile_list", .array(mobiles.map(OutJSON.string)))) }
        return .object([("msgtype", .string("text")), ("text", .object(text))])
    }

    // MARK: Answers

    /// errcode 0 delivered; 45009 / 45033 rate limited; -1 (system busy) retried; everything else
    /// (93000 invalid or removed webhook key, 40008 bad msgtype, 40058 bad parameter, 44004 empty
    /// content, …) is a request retrying cannot fix. Non-200 HTTP: 5xx retried, 429 rate limited.
    public func classify(_ response: OutboundResponse) -> DeliveryOutcome {
        classifyErrcode(response, vendor: "WeCom", rateLimited: [45009, 45033], retryAfter: 60)
    }
}
