import Foundation
import LeagueCore

/// The DingTalk app robot (企业内部应用机器人) sending into any group it was added to, through the
/// OpenAPI: `POST {api}/v1.0/robot/groupMessages/send` with header `x-acs-dingtalk-access-token`,
/// body `{msgKey, msgParam (a JSON string), openConversationId, robotCode}`. The access token comes
/// from `POST {api}/v1.0/oauth2/accessToken` `{appKey, appSecret}` → `{accessToken, expireIn}` and is
/// cached by `DingTalkAppTokenTransport` until shortly before it expires.
///
/// @-mentions: the group-message API has no `at` parameter (unlike the custom robot's
/// `at.atUserIds`). The bot writes `@名字` into the text so people see who is meant; whether
/// DingTalk turns that into a notification is not documented (docs/platforms.md, unconfirmed).
public struct DingTalkApp: Sendable, Equatable {
    public var clientID: String
    public var clientSecret: String
    public var robotCode: String
    public var apiBaseURL: String

    /// The placeholder the token transport replaces with the cached access token.
    public static let tokenPlaceholder = "{{dingtalk-app-access-token}}"
    public static let tokenHeader = "x-acs-dingtalk-access-token"
    /// Documented: an enterprise-internal app may call each server API at most 20 times a second
    /// (standard edition); the outbox keeps all app sends under that.
    public static let appRateLimit = RateLimit(perSecond: 20)

    public init(clientID: String, clientSecret: String, robotCode: String, apiBaseURL: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.robotCode = robotCode
        self.apiBaseURL = apiBaseURL
    }

    /// The group-message request for a group bound by its openConversationId only.
    public func encode(_ message: OutboundMessage) throws(EncodeError) -> OutboundRequest {
        let text = Self.text(with: message)
        let param: OutJSON
        let key: String
        if message.markdown {
            key = "sampleMarkdown"
            param = .object([("title", .string(DingTalkAdapter.title(of: message.text))), ("text", .string(text))])
        } else {
            key = "sampleText"
            param = .object([("content", .string(text))])
        }
        guard text.utf8.count <= 20_000 else { throw EncodeError("DingTalk app message is \(text.utf8.count) bytes; at most 20000 are sent") }
        let body = OutJSON.object([
            ("msgKey", .string(key)),
            ("msgParam", .string(param.text)),
            ("openConversationId", .string(message.group.chat)),
            ("robotCode", .string(robotCode)),
        ])
        return OutboundRequest(
            url: apiBaseURL + "/v1.0/robot/groupMessages/send",
            headers: ["Content-Type": "application/json", Self.tokenHeader: Self.tokenPlaceholder], body: body.data)
    }

    /// The text with every mentioned member not already named in it appended as `@名字`.
    static func text(with message: OutboundMessage) -> String {
        let missing = message.mentions.map { "@" + $0.name }.filter { !message.text.contains($0) }
        var seen: Set<String> = []
        let unique = missing.filter { seen.insert($0).inserted }
        return unique.isEmpty ? message.text : message.text + "\n" + unique.joined(separator: " ")
    }

    /// The token request.
    public func tokenRequest() -> OutboundRequest {
        let body = OutJSON.object([("appKey", .string(clientID)), ("appSecret", .string(clientSecret))])
        return OutboundRequest(url: apiBaseURL + "/v1.0/oauth2/accessToken", headers: ["Content-Type": "application/json"], body: body.data)
    }

    /// The token and its lifetime in seconds from the token answer.
    /// - Throws: `EncodeError` with the platform's code and message.
    public static func token(from response: OutboundResponse) throws(EncodeError) -> (token: String, expiresIn: Double) {
        let json = JSONValue.parse(response.body)
        guard response.status == 200, let token = json?["accessToken"]?.string, !token.isEmpty else {
            throw EncodeError("DingTalk access token: HTTP \(response.status) \(json?["code"]?.string ?? "") \(json?["message"]?.string ?? "")")
        }
        return (token, json?["expireIn"]?.number ?? 7200)
    }

    /// Classifies an OpenAPI answer; nil when the answer is not one (a custom robot's `{errcode}`).
    ///
    /// 200 with `processQueryKey` delivered; 429 or a `Throttling…` code rate limited; 401 /
    /// `InvalidAuthentication` (expired token, refreshed by the transport) retried; 5xx retried;
    /// other 4xx (`Forbidden.AccessDenied…` missing permission, robot not in the group, invalid
    /// parameter) permanent.
    public static func classify(_ response: OutboundResponse) -> DeliveryOutcome? {
        let json = JSONValue.parse(response.body)
        if response.status == 200, json?["processQueryKey"] != nil { return .delivered }
        guard let code = json?["code"]?.string else { return nil }
        let detail = "DingTalk app HTTP \(response.status) \(code): \(json?["message"]?.string ?? "")"
        if response.status == 429 || code.lowercased().contains("throttl") {
            return .rateLimited(retryAfter: nil, detail)
        }
        if response.status == 401 || code.hasPrefix("InvalidAuthentication") {
            return .retryLater(detail)
        }
        if response.status >= 500 { return .retryLater(detail) }
        return .permanentFailure(detail)
    }
}

/// Fills the DingTalk app's access token into requests that carry the placeholder, fetching it once
/// and caching it until `refreshBefore` seconds before it expires; a 401 answer drops the cached
/// token so the retry fetches a new one. Other requests pass through unchanged.
public actor DingTalkAppTokenTransport: HTTPTransport {
    let base: any HTTPTransport
    let app: DingTalkApp
    let clock: any WallClock
    let refreshBefore: Double
    private var cached: (token: String, expiresAt: Date)?
    private var fetching: Task<(String, Date), any Error>?

    public init(base: any HTTPTransport, app: DingTalkApp, clock: any WallClock, refreshBefore: Double = 300) {
        self.base = base
        self.app = app
        self.clock = clock
        self.refreshBefore = refreshBefore
    }

    public nonisolated func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        guard request.headers[DingTalkApp.tokenHeader] == DingTalkApp.tokenPlaceholder else {
            return try await base.send(request, timeout: timeout)
        }
        var filled = request
        let token = try await token(timeout: timeout)
        filled.headers[DingTalkApp.tokenHeader] = token
        let response = try await base.send(filled, timeout: timeout)
        if response.status == 401 || String(decoding: response.body, as: UTF8.self).contains("InvalidAuthentication") {
            await drop(token)
        }
        return response
    }

    func token(timeout: Double) async throws -> String {
        let now = clock.now()
        if let cached, cached.expiresAt.timeIntervalSince(now) > refreshBefore { return cached.token }
        if let fetching { return try await fetching.value.0 }
        let task = Task { [base, app, clock] () throws -> (String, Date) in
            let response = try await base.send(app.tokenRequest(), timeout: timeout)
            let answer = try DingTalkApp.token(from: response)
            return (answer.token, clock.now().addingTimeInterval(answer.expiresIn))
        }
        fetching = task
        defer { fetching = nil }
        let (token, expiresAt) = try await task.value
        cached = (token, expiresAt)
        return token
    }

    func drop(_ token: String) {
        if cached?.token == token { cached = nil }
    }
}
