import Foundation
import LeagueCore

/// Looks members' platform user ids up by mobile through the platform's contacts API
/// (`leagueops org resolve-ids`). Request builders and answer parsers are pure; `resolve` runs them
/// over a transport.
///
/// - DingTalk (enterprise-internal app, permission 通讯录个人信息读 / "根据手机号查询用户"):
///   `GET {base_url}/gettoken?appkey=&appsecret=` → `{errcode, access_token, expires_in}`, then one
///   `POST {base_url}/topapi/v2/user/getbymobile?access_token=…` `{"mobile"}` per member →
///   `{errcode: 0, result: {userid}}`; errcode 60121 is "no such user". base_url defaults to
///   `https://oapi.dingtalk.com`; the AppKey is `client_id`, the AppSecret `client_secret` (or `app_secret`).
/// - WeCom (a self-built app allowed to see the members, or the contacts-sync secret):
///   `GET {base_url}/cgi-bin/gettoken?corpid=&corpsecret=` → `{errcode, access_token}`, then one
///   `POST {base_url}/cgi-bin/user/getuserid?access_token=…` `{"mobile"}` per member →
///   `{errcode: 0, userid}`; errcode 46004 is "no such user". Settings `corp_id`, `corp_secret`.
///   WeCom blocks the API for a day when too many numbers are wrong: clean the roster first.
/// - Feishu (permission `contact:user.id:readonly`): the tenant token, then
///   `POST {base_url}/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id`
///   `{"mobiles": [≤ 50], "include_resigned": false}` → `{code: 0, data: {user_list: [{mobile, user_id?}]}}`;
///   an entry without `user_id` is not found. open_id, because that is the sender id events carry.
public struct UserDirectory: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case dingtalk, wecom, feishu }

    /// The answer for one mobile.
    public enum Answer: Sendable, Equatable {
        case found(String)
        case notFound
        case failed(String)
    }

    /// Why the lookup cannot go on at all (no token, permission refused for every number).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public var kind: Kind
    public var baseURL: String
    public var appID: String
    public var secret: String

    public init(kind: Kind, baseURL: String, appID: String, secret: String) {
        self.kind = kind
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.appID = appID
        self.secret = secret
    }

    /// The directory of a configured platform, from its `platforms.<name>` settings.
    /// - Throws: `PlatformSettingError` naming the setting to add.
    public static func make(platform: String, settings: [String: String]) throws(PlatformSettingError) -> UserDirectory {
        guard let kind = Kind(rawValue: platform) else {
            throw PlatformSettingError(platform: platform, key: "", problem: "has no user lookup by mobile (use dingtalk, wecom or feishu)")
        }
        func value(_ keys: [String]) throws(PlatformSettingError) -> String {
            for key in keys { if let text = settings[key], !text.isEmpty { return text } }
            throw PlatformSettingError(platform: platform, key: keys[0], problem: "is required to look user ids up by mobile")
        }
        let (fallback, appIDKeys, secretKeys) =
            switch kind {
            case .dingtalk: (DingTalkAdapter.defaultBaseURL, ["client_id"], ["client_secret", "app_secret"])
            case .wecom: (WeComAdapter.defaultBaseURL, ["corp_id"], ["corp_secret"])
            case .feishu: (FeishuAdapter.defaultBaseURL, ["app_id"], ["app_secret"])
            }
        let appID = try value(appIDKeys)
        let secret = try value(secretKeys)
        let base = settings["base_url"].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        guard base.hasPrefix("https://") || base.hasPrefix("http://127.0.0.1") || base.hasPrefix("http://localhost") else {
            throw PlatformSettingError(platform: platform, key: "base_url", problem: "must be an https URL (http only for loopback)")
        }
        return UserDirectory(kind: kind, baseURL: base, appID: appID, secret: secret)
    }

    /// How many mobiles one lookup request carries.
    public var batchSize: Int { kind == .feishu ? 50 : 1 }

    // MARK: Token

    public func tokenRequest() -> OutboundRequest {
        let q = WireText.percentEncode
        switch kind {
        case .dingtalk:
            return OutboundRequest(method: "GET", url: "\(baseURL)/gettoken?appkey=\(q(appID))&appsecret=\(q(secret))", headers: [:], body: Data())
        case .wecom:
            return OutboundRequest(method: "GET", url: "\(baseURL)/cgi-bin/gettoken?corpid=\(q(appID))&corpsecret=\(q(secret))", headers: [:], body: Data())
        case .feishu:
            return FeishuAppAPI.tokenRequest(baseURL: baseURL, appID: appID, appSecret: secret)
        }
    }

    /// - Throws: `Failure` with the platform's code and message.
    public func token(from response: OutboundResponse) throws(Failure) -> String {
        switch kind {
        case .feishu:
            switch FeishuAppAPI.parseToken(response) {
            case .token(let token, _): return token
            case .retry(let why), .fatal(let why): throw Failure(why)
            }
        case .dingtalk, .wecom:
            let json = JSONValue.parse(response.body)
            guard response.status == 200, json?["errcode"]?.int64 ?? 0 == 0, let token = json?.text("access_token") else {
                let which = kind == .dingtalk ? "client_id / client_secret" : "corp_id / corp_secret"
                throw Failure(
                    "\(kind.rawValue) access token: HTTP \(response.status) errcode \(json?["errcode"]?.int64.map(String.init) ?? "-") \(json?["errmsg"]?.string ?? "") (check platforms.\(kind.rawValue).\(which))"
                )
            }
            return token
        }
    }

    // MARK: Lookup

    /// The request for up to `batchSize` mobiles (11 digits, as `Mobile.normalized` gives them).
    public func lookupRequest(_ mobiles: [String], token: String) -> OutboundRequest {
        switch kind {
        case .dingtalk, .wecom:
            let path = kind == .dingtalk ? "topapi/v2/user/getbymobile" : "cgi-bin/user/getuserid"
            return OutboundRequest(
                url: "\(baseURL)/\(path)?access_token=\(WireText.percentEncode(token))", body: OutJSON.object([("mobile", .string(mobiles[0]))]).data)
        case .feishu:
            return OutboundRequest(
                url: "\(baseURL)/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id",
                headers: ["Content-Type": "application/json; charset=utf-8", "Authorization": "Bearer \(token)"],
                body: OutJSON.object([("mobiles", .array(mobiles.map { .string($0) })), ("include_resigned", .bool(false))]).data)
        }
    }

    /// The answers for the mobiles of one request; a refused request answers `.failed` for each.
    public func answers(_ response: OutboundResponse, for mobiles: [String]) -> [String: Answer] {
        let json = JSONValue.parse(response.body)
        func all(_ answer: Answer) -> [String: Answer] { Dictionary(uniqueKeysWithValues: mobiles.map { ($0, answer) }) }
        switch kind {
        case .dingtalk, .wecom:
            guard let json, let code = json["errcode"]?.int64 else { return all(.failed("HTTP \(response.status) without errcode")) }
            if code == 0 {
                let id = kind == .dingtalk ? json["result"]?.text("userid") : json.text("userid")
                return all(id.map(Answer.found) ?? .notFound)
            }
            // DingTalk 60121 找不到该用户; WeCom 46004 不存在该用户 (60103: not a valid mobile).
            if (kind == .dingtalk && code == 60121) || (kind == .wecom && (code == 46004 || code == 60103)) { return all(.notFound) }
            return all(.failed("errcode \(code): \(json["errmsg"]?.string ?? "")"))
        case .feishu:
            guard let json, let code = json["code"]?.int64 else { return all(.failed("HTTP \(response.status) without code")) }
            guard code == 0 else { return all(.failed("code \(code): \(json["msg"]?.string ?? "")")) }
            var result = all(.notFound)
            for entry in json["data"]?["user_list"]?.array ?? [] {
                guard let mobile = entry.text("mobile").flatMap(Mobile.normalized), result[mobile] != nil else { continue }
                if let id = entry.text("user_id") { result[mobile] = .found(id) }
            }
            return result
        }
    }

    /// Looks every mobile up, `batchSize` at a time, `pause` seconds apart (DingTalk allows 20 calls a
    /// second per app; WeCom counts wrong numbers). Stops when `maxFailuresInARow` requests in a row
    /// fail (a permission missing fails every one); the mobiles not asked then are not in the answers.
    /// - Throws: `Failure` when no token can be had.
    public func resolve(
        _ mobiles: [String], transport: any HTTPTransport, timeout: Double = 10, pause: Double = 0.1,
        maxFailuresInARow: Int = 5
    ) async throws -> (answers: [String: Answer], stopped: String?) {
        let tokenResponse: OutboundResponse
        do { tokenResponse = try await transport.send(tokenRequest(), timeout: timeout) } catch {
            throw Failure("\(kind.rawValue) access token: \(error)")
        }
        let token = try token(from: tokenResponse)
        var answers: [String: Answer] = [:]
        var failuresInARow = 0
        var start = 0
        while start < mobiles.count {
            let batch = Array(mobiles[start..<min(start + batchSize, mobiles.count)])
            start += batch.count
            let got: [String: Answer]
            do {
                got = self.answers(try await transport.send(lookupRequest(batch, token: token), timeout: timeout), for: batch)
            } catch {
                got = Dictionary(uniqueKeysWithValues: batch.map { ($0, Answer.failed("\(error)")) })
            }
            answers.merge(got) { $1 }
            if case .failed(let why)? = got.values.first(where: { if case .failed = $0 { return true } else { return false } }) {
                failuresInARow += 1
                if failuresInARow >= maxFailuresInARow {
                    return (answers, "stopped after \(failuresInARow) failed requests in a row (last: \(why)); check the app's permission")
                }
            } else {
                failuresInARow = 0
            }
            if pause > 0, start < mobiles.count { try? await Task.sleep(for: .milliseconds(Int64(pause * 1000))) }
        }
        return (answers, nil)
    }
}
