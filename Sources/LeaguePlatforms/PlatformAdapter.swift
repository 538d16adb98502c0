import Foundation
import LeagueCore

/// An HTTP request as the server received it, before any decoding.
public struct InboundRequest: Sendable {
    public var method: String
    /// Percent-decoded query parameters (`+` stays a literal plus).
    public var query: [String: String]
    /// Header values by lower-cased name; a repeated header keeps every value in order.
    public var headers: [String: [String]]
    /// The exact body bytes: signatures cover these, never a re-serialised object.
    public var body: Data

    public init(method: String, query: [String: String] = [:], headers: [String: [String]] = [:], body: Data = Data()) {
        self.method = method
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The single value of a header; a header given twice is ambiguous and refused.
    public func header(_ name: String) throws(InboundRejection) -> String? {
        guard let values = headers[name.lowercased()] else { return nil }
        guard values.count == 1 else { throw .badRequest("header \(name) was given \(values.count) times") }
        return values[0]
    }
}

/// A plain HTTP answer: status, content type and body.
public struct PlainResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: Data

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: Data) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func text(_ text: String, status: Int = 200) -> PlainResponse {
        PlainResponse(status: status, body: Data(text.utf8))
    }

    public static func json(_ json: String, status: Int = 200) -> PlainResponse {
        PlainResponse(status: status, contentType: "application/json; charset=utf-8", body: Data(json.utf8))
    }
}

/// What an inbound request turned out to be.
public enum InboundOutcome: Sendable {
    /// A chat message to commit and process; answer with `reply` once it is committed.
    case message(ChatMessage, reply: PlainResponse)
    /// A protocol exchange (URL verification, challenge) answered directly; nothing is stored.
    case respond(PlainResponse)
    /// A well-formed request the bot does not act on (an event type it does not handle).
    case ignore(reason: String, reply: PlainResponse)
}

/// Why an inbound request was refused; nothing is stored for it.
public struct InboundRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400 malformed, 401 bad signature / stale timestamp / wrong token, 413 too large (body or text).
    public var status: Int
    public var reason: String
    /// For a verified message refused as too long: who sent it where (text emptied), so the bot
    /// can tell the sender in the chat.
    public var tooLong: ChatMessage?

    public init(status: Int, reason: String, tooLong: ChatMessage? = nil) {
        self.status = status
        self.reason = reason
        self.tooLong = tooLong
    }

    public static func badRequest(_ reason: String) -> InboundRejection { .init(status: 400, reason: reason) }
    public static func unauthorized(_ reason: String) -> InboundRejection { .init(status: 401, reason: reason) }

    public var description: String { "\(status): \(reason)" }
}

/// Bounds every accepted inbound message keeps, whatever the platform sent: the ids become store
/// keys and log fields, and the text is relayed into notices. Checked by every adapter before it
/// hands a message on, so an over-long field is refused before anything is stored.
public enum InboundLimits {
    /// Message, chat and sender ids, in UTF-8 bytes.
    public static let maxIDBytes = 256
    /// The message text, in UTF-8 bytes: about 10,900 Chinese characters, so a long notice pasted into
    /// a group still passes (a refused text is never seen by its sender: the platform only retries).
    public static let maxTextBytes = 32 * 1024

    /// The message unchanged when it keeps the bounds.
    /// - Throws: 400 naming an id that is empty or too long, 413 for a text over `maxTextBytes`.
    public static func check(_ message: ChatMessage) throws(InboundRejection) -> ChatMessage {
        for (name, value) in [("message id", message.messageID), ("chat id", message.chat), ("sender id", message.sender)] {
            guard !value.isEmpty else { throw .badRequest("the \(name) is empty") }
            guard value.utf8.count <= maxIDBytes else {
                throw .badRequest("the \(name) is \(value.utf8.count) bytes; at most \(maxIDBytes) are accepted")
            }
        }
        guard message.text.utf8.count <= maxTextBytes else {
            var sender = message
            sender.text = ""
            throw InboundRejection(status: 413, reason: "the message text is \(message.text.utf8.count) bytes; at most \(maxTextBytes) are accepted", tooLong: sender)
        }
        return message
    }
}

/// An HTTP request the bot sends to a platform.
public struct OutboundRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: Data

    public init(method: String = "POST", url: String, headers: [String: String] = ["Content-Type": "application/json; charset=utf-8"], body: Data) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The platform's answer to a send.
public struct OutboundResponse: Sendable, Equatable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}

/// The platform's answer mapped to what the outbox does next.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// A passing failure: retry with backoff.
    case retryLater(String)
    /// The platform said slow down: retry after the given seconds (or the robot's window).
    case rateLimited(retryAfter: Double?, String)
    /// Retrying cannot help (bad key, removed robot): put aside as dead and report.
    case permanentFailure(String)
}

/// A robot's send limits.
public struct RateLimit: Sendable, Equatable {
    public var perMinute: Int?
    public var perSecond: Int?

    public init(perMinute: Int? = nil, perSecond: Int? = nil) {
        self.perMinute = perMinute
        self.perSecond = perSecond
    }

    public static let unlimited = RateLimit()
}

/// Why an outbound message could not be encoded (missing credential, over the byte limit after cutting).
public struct EncodeError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// One chat platform: inbound verify + decode, outbound encode, answer classification.
///
/// Adapters are pure values apart from their configured secrets; `now` is always passed in.
public protocol PlatformAdapter: Sendable {
    /// `generic`, `wecom`, `dingtalk`, `feishu`, `console`.
    var name: String { get }
    /// Webhook paths below `/webhook/` this adapter answers (`wecom` and `wecom-app`, …).
    var webhookPaths: [String] { get }
    /// Verifies and decodes one inbound request. Throws `InboundRejection`.
    func decode(_ request: InboundRequest, path: String, now: Date) throws(InboundRejection) -> InboundOutcome
    /// Encodes a message for a group into the HTTP request its robot expects.
    func encode(_ message: OutboundMessage, now: Date) throws(EncodeError) -> OutboundRequest
    /// Maps the platform's answer to delivered / retry / rate limited / permanent failure.
    func classify(_ response: OutboundResponse) -> DeliveryOutcome
    /// The send limits of one robot of this platform.
    var rateLimit: RateLimit { get }
    /// How a member answers a notice on this platform: `收到` or `@机器人 收到`.
    func ackHint(_ language: Language) -> String
    /// A limit shared by every group a message to `group` counts against (an app that speaks in many
    /// groups: DingTalk's app robot), with the window's key; nil when only the per-robot limit applies.
    func sharedRateLimit(for group: GroupBinding) -> (key: String, limit: RateLimit)?
}

extension PlatformAdapter {
    public var webhookPaths: [String] { [name] }
    public var rateLimit: RateLimit { .unlimited }
    public func sharedRateLimit(for group: GroupBinding) -> (key: String, limit: RateLimit)? { nil }
    public func ackHint(_ language: Language) -> String { language.pick("回复“收到”确认", "reply 收到 to acknowledge") }

    /// The hint where the bot hears only when @-mentioned: `@<botName> 收到` (`@机器人` / `@bot` when unnamed).
    func mentionAckHint(botName: String?, _ language: Language) -> String {
        let bot = botName.map { "@\($0)" }
        return language.pick("回复“\(bot ?? "@机器人") 收到”确认", "reply \"\(bot ?? "@bot") 收到\" to acknowledge")
    }

    /// A robot's `{errcode, errmsg}` answer (WeCom, DingTalk): errcode 0 delivered, one of `rateLimited` rate
    /// limited for `retryAfter` seconds, -1 (system busy) retried, any other permanent. Non-200 HTTP: by status.
    public func classifyErrcode(_ response: OutboundResponse, vendor: String, rateLimited: Set<Int64>, retryAfter: Double) -> DeliveryOutcome {
        guard response.status == 200 else { return classifyByStatus(response) }
        guard let json = JSONValue.parse(response.body), let code = json["errcode"]?.int64 else {
            return .retryLater("\(vendor) answered HTTP 200 without an errcode")
        }
        let detail = "\(vendor) errcode \(code): \(json["errmsg"]?.string ?? "")"
        if code == 0 { return .delivered }
        if rateLimited.contains(code) { return .rateLimited(retryAfter: retryAfter, detail) }
        return code == -1 ? .retryLater(detail) : .permanentFailure(detail)
    }

    /// 2xx is delivered, 429 rate limited, other 4xx permanent, anything else retried.
    public func classifyByStatus(_ response: OutboundResponse) -> DeliveryOutcome {
        switch response.status {
        case 200..<300: return .delivered
        case 429: return .rateLimited(retryAfter: nil, "HTTP 429")
        case 400..<500 where response.status != 408: return .permanentFailure("HTTP \(response.status)")
        default: return .retryLater("HTTP \(response.status)")
        }
    }
}

extension OutboundMessage {
    /// The mentioned members' user ids and, for those without one, their mobiles; each once, in order.
    var mentionedIDs: (userIDs: [String], mobiles: [String]) {
        var userIDs: [String] = []
        var mobiles: [String] = []
        for mention in mentions {
            if let userID = mention.userID, !userID.isEmpty {
                if !userIDs.contains(userID) { userIDs.append(userID) }
            } else if let mobile = mention.mobile, !mobile.isEmpty, !mobiles.contains(mobile) {
                mobiles.append(mobile)
            }
        }
        return (userIDs, mobiles)
    }
}

/// Sends HTTP requests: `AsyncHTTPClientTransport` (LeagueTransport) in production, in-memory fakes in tests.
public protocol HTTPTransport: Sendable {
    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse
}
