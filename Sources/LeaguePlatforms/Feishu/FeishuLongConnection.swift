import Crypto
import Foundation
import LeagueCore

/// The settings a Feishu pong (or the bootstrap) hands the client, in seconds.
public struct FeishuClientConfig: Sendable, Equatable {
    /// -1: reconnect forever.
    public var reconnectCount: Int
    public var reconnectInterval: Double
    /// Random 0…N s before the first reconnect attempt.
    public var reconnectNonce: Double
    public var pingInterval: Double

    public init(reconnectCount: Int = -1, reconnectInterval: Double = 120, reconnectNonce: Double = 30, pingInterval: Double = 120) {
        self.reconnectCount = reconnectCount
        self.reconnectInterval = reconnectInterval
        self.reconnectNonce = reconnectNonce
        self.pingInterval = pingInterval
    }

    /// Reads `{"ReconnectCount":…,"ReconnectInterval":…,"ReconnectNonce":…,"PingInterval":…}`; a
    /// missing member keeps the default, a non-positive interval is refused (nil).
    public init?(json: Data) {
        guard let value = JSONValue.parse(json), value.isObject else { return nil }
        self.init(value)
    }

    init?(_ value: JSONValue) {
        self.init()
        if let count = value["ReconnectCount"]?.int64 { reconnectCount = Int(count) }
        if let interval = value["ReconnectInterval"]?.number { reconnectInterval = interval }
        if let nonce = value["ReconnectNonce"]?.number { reconnectNonce = max(0, nonce) }
        if let ping = value["PingInterval"]?.number { pingInterval = ping }
        guard pingInterval > 0, reconnectInterval >= 0 else { return nil }
    }
}

/// `POST {base_url}/callback/ws/endpoint`: trades the app's credentials for a WebSocket URL.
public enum FeishuBootstrap {
    /// Where to connect: the URL carries a one-use ticket, so it is never logged (only `deviceID`).
    public struct Endpoint: Sendable, Equatable {
        public var url: String
        /// `service_id` of the URL query: goes into every ping.
        public var serviceID: Int32
        /// `device_id` of the URL query: the connection's id in logs.
        public var deviceID: String
        public var config: FeishuClientConfig
    }

    public enum Answer: Sendable, Equatable {
        case connect(Endpoint)
        /// A passing failure (HTTP ≠ 200, code 1 busy, 1000040343 internal): back off and retry.
        case retry(String)
        /// The platform refused the app (bad credentials, not allowed): retrying cannot help.
        case fatal(String)
    }

    public static func request(baseURL: String, appID: String, appSecret: String) -> OutboundRequest {
        let body = OutJSON.object([("AppID", .string(appID)), ("AppSecret", .string(appSecret))])
        return OutboundRequest(url: "\(FeishuAppAPI.trim(baseURL))/callback/ws/endpoint", headers: ["Content-Type": "application/json", "locale": "zh"], body: body.data)
    }

    /// Maps the bootstrap answer. `allowPlainWS`: accept a `ws://` URL (loopback tests only).
    public static func parse(_ response: OutboundResponse, allowPlainWS: Bool) -> Answer {
        guard response.status == 200 else { return .retry("Feishu bootstrap answered HTTP \(response.status)") }
        guard let json = JSONValue.parse(response.body), let code = json["code"]?.int64 else {
            return .retry("Feishu bootstrap answer has no code")
        }
        let msg = json["msg"]?.string ?? ""
        switch code {
        case 0: break
        case 1, 1_000_040_343: return .retry("Feishu bootstrap code \(code): \(msg)")
        default: return .fatal("Feishu bootstrap code \(code): \(msg) (check app_id / app_secret and that the app is a self-built app with the long connection enabled)")
        }
        guard let url = json["data"]?["URL"]?.string, let components = URLComponents(string: url),
            components.scheme == "wss" || (allowPlainWS && components.scheme == "ws")
        else {
            return .retry("Feishu bootstrap answer has no usable wss:// URL")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
        guard let serviceID = query["service_id"].flatMap({ Int32($0) }) else {
            return .retry("Feishu bootstrap URL has no service_id")
        }
        let config = json["data"]?["ClientConfig"].flatMap { FeishuClientConfig($0) } ?? FeishuClientConfig()
        return .connect(Endpoint(url: url, serviceID: serviceID, deviceID: query["device_id"] ?? "", config: config))
    }
}

extension FeishuAdapter {
    /// Decodes the event JSON of a long-connection data frame (schema 2.0, plain, not signed:
    /// the app was authenticated at bootstrap) into the same outcome a webhook event gives.
    public func decodePushedEvent(_ payload: Data, now: Date) throws(InboundRejection) -> InboundOutcome {
        guard let json = JSONValue.parse(payload), json.isObject else { throw .badRequest("Feishu pushed event is not a JSON object") }
        guard let type = json["header"]?.text("event_type") else { throw .badRequest("Feishu pushed event has no header.event_type") }
        guard type == "im.message.receive_v1" else {
            return .ignore(reason: "Feishu event \(type) is not handled", reply: Self.okReply)
        }
        return try decodeMessage(json, now: now)
    }
}

/// The app's OpenAPI for sending into any group the bot is in: tenant access token and
/// `im/v1/messages?receive_id_type=chat_id`. Pure request builders and answer classifiers.
public enum FeishuAppAPI {
    public enum TokenAnswer: Sendable, Equatable {
        case token(String, expiresIn: Double)
        case retry(String)
        case fatal(String)
    }

    /// What a send answer means for the sender.
    public enum SendAnswer: Sendable, Equatable {
        case outcome(DeliveryOutcome)
        /// The token was refused (expired, revoked): fetch a new one and send again once.
        case tokenRejected(String)
    }

    /// `POST {base}/open-apis/auth/v3/tenant_access_token/internal`.
    public static func tokenRequest(baseURL: String, appID: String, appSecret: String) -> OutboundRequest {
        let body = OutJSON.object([("app_id", .string(appID)), ("app_secret", .string(appSecret))])
        return OutboundRequest(
            url: "\(trim(baseURL))/open-apis/auth/v3/tenant_access_token/internal",
            headers: ["Content-Type": "application/json; charset=utf-8"], body: body.data)
    }

    /// `{"code":0,"tenant_access_token":"t-…","expire":7200}`; code ≠ 0 is fatal (wrong app_id /
    /// app_secret, app disabled) except the platform's busy/internal codes; HTTP ≥ 500 retries.
    public static func parseToken(_ response: OutboundResponse) -> TokenAnswer {
        let json = JSONValue.parse(response.body)
        guard let code = json?["code"]?.int64 else {
            return .retry("Feishu token endpoint answered HTTP \(response.status) without a code")
        }
        let msg = json?["msg"]?.string ?? ""
        guard code == 0 else {
            if response.status >= 500 || response.status == 429 || code == 99_991_400 || code == 1 {
                return .retry("Feishu token code \(code): \(msg)")
            }
            return .fatal("Feishu token code \(code): \(msg) (check platforms.feishu.app_id / app_secret)")
        }
        guard let token = json?.text("tenant_access_token") else { return .retry("Feishu token answer has no tenant_access_token") }
        let expire = json?["expire"]?.number ?? 7200
        return .token(token, expiresIn: expire)
    }

    /// `uuid` of a send: Feishu drops a second send with the same uuid within an hour, so a
    /// retried send after a lost answer does not post twice. At most 50 characters: a hash of the key.
    public static func uuid(forKey key: String) -> String {
        String(Bytes.hex(SHA256.hash(data: Array(key.utf8))).prefix(32))
    }

    /// The send request for a group. Plain messages are `text` with each mention as
    /// `<at user_id="ou_…">name</at>` (an open_id, user_id or `all`); markdown messages are `post`
    /// rich text with `{"tag":"at","user_id":…}` elements. Text over 30 KB (the doc's 150 KB body
    /// limit is for the whole request) is cut at a character boundary.
    public static func sendRequest(_ message: OutboundMessage, token: String, baseURL: String) -> OutboundRequest {
        let text = WireText.cut(message.text, maxBytes: 30 * 1024)
        let (msgType, content) = FeishuAdapter.content(text: text, message: message, spaceBeforeMentions: false)
        let body = OutJSON.object([
            ("receive_id", .string(message.group.chat)),
            ("msg_type", .string(msgType)),
            // The API takes `content` as a JSON *string*.
            ("content", .string(content.text)),
            ("uuid", .string(uuid(forKey: message.key))),
        ])
        return OutboundRequest(
            url: "\(trim(baseURL))/open-apis/im/v1/messages?receive_id_type=chat_id",
            headers: ["Content-Type": "application/json; charset=utf-8", "Authorization": "Bearer \(token)"],
            body: body.data
        )
    }

    /// Codes: 0 delivered; 99991661 / 99991663 / 99991668 / 99991677 token missing, invalid or
    /// expired → new token; 99991400 (HTTP 429, the per-app window) and 230020 (the per-chat
    /// window) rate limited; 230001 bad parameters, 230002 bot not in the group, 230006 bot
    /// ability off, 230013 no availability, 230027 / 99991672 missing scope, 230099 content
    /// refused and other 4xx codes permanent; HTTP 5xx and codes 1 / 2200 / 230015 retried.
    public static func classifySend(_ response: OutboundResponse) -> SendAnswer {
        let json = JSONValue.parse(response.body)
        let msg = json?["msg"]?.string ?? ""
        guard let code = json?["code"]?.int64 else {
            if response.status == 429 { return .outcome(.rateLimited(retryAfter: nil, "Feishu HTTP 429")) }
            return .outcome(
                response.status >= 500 || response.status == 200
                    ? .retryLater("Feishu answered HTTP \(response.status) without a code")
                    : .permanentFailure("Feishu answered HTTP \(response.status) without a code"))
        }
        let detail = "Feishu code \(code): \(msg)"
        switch code {
        case 0 where response.status == 200: return .outcome(.delivered)
        case 99_991_661, 99_991_663, 99_991_668, 99_991_677: return .tokenRejected(detail)
        case 99_991_400, 230_020, 11_232: return .outcome(.rateLimited(retryAfter: code == 230_020 ? 1 : nil, detail))
        case 1, 2200, 230_015: return .outcome(.retryLater(detail))
        default:
            if response.status == 429 { return .outcome(.rateLimited(retryAfter: nil, detail)) }
            if response.status >= 500 { return .outcome(.retryLater(detail)) }
            return .outcome(.permanentFailure(detail))
        }
    }

    static func trim(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}

/// Sends through a platform app rather than a group's own robot, for bindings that name only the
/// chat. Implemented by the Feishu tenant-token sender and the WeCom long connection.
public protocol AppSender: Sendable {
    /// The platform this sender posts to.
    var platform: String { get }
    /// Whether a binding goes through the app (it has no robot credential of its own).
    func handles(_ binding: GroupBinding) -> Bool
    /// Sends one message; never throws, every failure is an outcome for the outbox.
    func send(_ message: OutboundMessage, timeout: Double) async -> DeliveryOutcome
    /// The documented limits of one chat when written through the app.
    var perChatLimit: RateLimit { get }
    /// The documented limits of the app as a whole (every chat together).
    var perAppLimit: RateLimit { get }
}

/// Feishu app sending with the tenant access token cached until `refreshBefore` seconds before it
/// expires, fetched again when the API says it is no longer valid (one retry of the send).
public actor FeishuAppSender: AppSender {
    public nonisolated let platform = "feishu"
    let transport: any HTTPTransport
    let baseURL: String
    let appID: String
    let appSecret: String
    let clock: any WallClock
    let refreshBefore: Double
    private var cached: (token: String, expiresAt: Date)?

    public init(transport: any HTTPTransport, baseURL: String, appID: String, appSecret: String, clock: any WallClock, refreshBefore: Double = 300) {
        self.transport = transport
        self.baseURL = baseURL
        self.appID = appID
        self.appSecret = appSecret
        self.clock = clock
        self.refreshBefore = refreshBefore
    }

    /// im/v1/messages: 5 messages a second per chat (shared by the bots in it).
    public nonisolated var perChatLimit: RateLimit { RateLimit(perSecond: 5) }
    /// im/v1/messages: 1,000 a minute and 50 a second per app.
    public nonisolated var perAppLimit: RateLimit { RateLimit(perMinute: 1000, perSecond: 50) }

    public nonisolated func handles(_ binding: GroupBinding) -> Bool {
        binding.platform == platform && (binding.credentials["hook"] ?? "").isEmpty
    }

    public func send(_ message: OutboundMessage, timeout: Double) async -> DeliveryOutcome {
        for attempt in 0..<2 {
            let token: String
            do throws(DeliveryOutcomeError) { token = try await currentToken(timeout: timeout) } catch { return error.outcome }
            let request = FeishuAppAPI.sendRequest(message, token: token, baseURL: baseURL)
            let response: OutboundResponse
            do {
                response = try await transport.send(request, timeout: timeout)
            } catch {
                return .retryLater("Feishu send failed: \(error)")
            }
            switch FeishuAppAPI.classifySend(response) {
            case .outcome(let outcome): return outcome
            case .tokenRejected(let reason):
                cached = nil
                if attempt == 1 { return .retryLater(reason) }
            }
        }
        return .retryLater("Feishu token refused twice")
    }

    private func currentToken(timeout: Double) async throws(DeliveryOutcomeError) -> String {
        let now = clock.now()
        if let cached, cached.expiresAt.timeIntervalSince(now) > refreshBefore { return cached.token }
        let response: OutboundResponse
        do {
            response = try await transport.send(FeishuAppAPI.tokenRequest(baseURL: baseURL, appID: appID, appSecret: appSecret), timeout: timeout)
        } catch {
            throw DeliveryOutcomeError(outcome: .retryLater("Feishu token request failed: \(error)"))
        }
        switch FeishuAppAPI.parseToken(response) {
        case .token(let token, let expiresIn):
            cached = (token, now.addingTimeInterval(expiresIn))
            return token
        case .retry(let reason): throw DeliveryOutcomeError(outcome: .retryLater(reason))
        case .fatal(let reason): throw DeliveryOutcomeError(outcome: .permanentFailure(reason))
        }
    }
}

/// A delivery outcome thrown by a step that ends the send.
struct DeliveryOutcomeError: Error {
    var outcome: DeliveryOutcome
}
