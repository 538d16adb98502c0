import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import Logging
import NIOCore
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An in-process fake of the three vendors' outbound robot APIs on 127.0.0.1, port 0.
///
/// * WeCom group robot: `POST /cgi-bin/webhook/send?key=KEY`
/// * DingTalk custom robot: `POST /robot/send?access_token=T&timestamp=MS&sign=S` — the 加签 is checked
/// * Feishu custom bot: `POST /open-apis/bot/v2/hook/:id` with `timestamp` + `sign` body fields — checked
///
/// Signatures are recomputed here with swift-crypto directly (not with the adapters' helpers) and
/// checked against the shared manual clock (±1 hour, as the vendors do). A bad signature is answered
/// with the vendor's own error (DingTalk 310000, Feishu 19021). `rateLimit` scripts the vendor's
/// rate-limit answer for the next N requests of a robot.
final class FakePlatformAPI: @unchecked Sendable {
    enum Vendor: String, Sendable { case wecom, dingtalk, feishu }

    /// The rate-limit answer to give.
    enum Limit: Sendable {
        case wecom45009, dingtalk130101, dingtalk660026, feishu9499, http429
    }

    struct Received: Sendable {
        var vendor: Vendor
        /// The robot: WeCom key, DingTalk access token or Feishu hook id.
        var robot: String
        var query: [String: String]
        var body: Data
        /// The parsed JSON body.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var signatureValid: Bool
        /// False when the fake answered with a rate-limit or signature error.
        var accepted: Bool

        /// The message text in the vendor's body format (text content, markdown text, or post paragraphs).
        var text: String {
            let json = self.json
            switch vendor {
            case .wecom:
                return ((json["text"] as? [String: Any])?["content"] as? String) ?? ((json["markdown"] as? [String: Any])?["content"] as? String) ?? ""
            case .dingtalk:
                return ((json["text"] as? [String: Any])?["content"] as? String) ?? ((json["markdown"] as? [String: Any])?["text"] as? String) ?? ""
            case .feishu:
                let content = json["content"] as? [String: Any]
                if let text = content?["text"] as? String { return text }
                let post = ((content?["post"] as? [String: Any])?["zh_cn"] as? [String: Any])?["content"] as? [[[String: Any]]] ?? []
                return post.map { $0.compactMap { $0["text"] as? String }.joined() }.joined(separator: "\n")
            }
        }

        /// The people mentioned, as the vendor reads them: WeCom `mentioned_list` + `mentioned_mobile_list`,
        /// DingTalk `at.atUserIds` + `at.atMobiles`, Feishu the `<at user_id="…">` tags or `at` elements.
        var mentions: [String] {
            let json = self.json
            switch vendor {
            case .wecom:
                let text = json["text"] as? [String: Any]
                return (text?["mentioned_list"] as? [String] ?? []) + (text?["mentioned_mobile_list"] as? [String] ?? [])
            case .dingtalk:
                let at = json["at"] as? [String: Any]
                return (at?["atUserIds"] as? [String] ?? []) + (at?["atMobiles"] as? [String] ?? [])
            case .feishu:
                var ids: [String] = []
                var rest = Substring(text)
                while let range = rest.range(of: "<at user_id=\"") {
                    let tail = rest[range.upperBound...]
                    guard let end = tail.firstIndex(of: "\"") else { break }
                    ids.append(String(tail[..<end]))
                    rest = tail[end...]
                }
                return ids
            }
        }
    }

    let clock: ManualClock
    private let lock = NSLock()
    private var received: [Received] = []
    private var limits: [String: (Limit, Int)] = [:]
    /// Robot secrets by robot (DingTalk token or Feishu hook id) for checking signatures.
    private var secrets: [String: String] = [:]
    private(set) var port = 0
    private var task: ServiceRun?

    init(clock: ManualClock) {
        self.clock = clock
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Received] { lock.withLock { received } }
    /// Requests the fake accepted (answered errcode/code 0).
    var delivered: [Received] { requests.filter(\.accepted) }
    func delivered(to robot: String) -> [Received] { delivered.filter { $0.robot == robot } }

    /// Registers a robot's signing secret (DingTalk `robot_secret`, Feishu `hook_secret`).
    func expectSecret(_ secret: String, for robot: String) { lock.withLock { secrets[robot] = secret } }

    /// Answers the next `count` requests to `robot` with the vendor's rate-limit error.
    func rateLimit(_ robot: String, next count: Int, with limit: Limit) { lock.withLock { limits[robot] = (limit, count) } }

    func start() async throws {
        let router = Router()
        router.post("/cgi-bin/webhook/send") { request, _ in try await self.handle(.wecom, request, robotFromPath: nil) }
        router.post("/robot/send") { request, _ in try await self.handle(.dingtalk, request, robotFromPath: nil) }
        router.post("/open-apis/bot/v2/hook/:id") { request, context in
            try await self.handle(.feishu, request, robotFromPath: context.parameters.get("id") ?? "")
        }
        let started = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "fake-platform")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "FakePlatformAPI"),
            onServerRunning: { channel in
                started.continuation.yield(channel.localAddress?.port ?? 0)
                started.continuation.finish()
            },
            logger: logger
        )
        task = ServiceRun(app)
        for await port in started.stream { self.port = port }
    }

    func stop() async {
        await task?.stop()
        task = nil
    }

    private func handle(_ vendor: Vendor, _ request: Request, robotFromPath: String?) async throws -> Response {
        let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
        let query = Self.query(request.uri.query ?? "")
        let robot: String
        switch vendor {
        case .wecom: robot = query["key"] ?? ""
        case .dingtalk: robot = query["access_token"] ?? ""
        case .feishu: robot = robotFromPath ?? ""
        }
        let valid = checkSignature(vendor, robot: robot, query: query, body: body)
        let limit: Limit? = lock.withLock {
            guard let (limit, count) = limits[robot], count > 0 else { return nil }
            limits[robot] = (limit, count - 1)
            return limit
        }
        let accepted = valid && limit == nil
        lock.withLock { received.append(Received(vendor: vendor, robot: robot, query: query, body: body, signatureValid: valid, accepted: accepted)) }
        if !valid {
            switch vendor {
            case .dingtalk: return Self.json(#"{"errcode":310000,"errmsg":"sign not match"}"#)
            case .feishu: return Self.json(#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time","data":{}}"#)
            case .wecom: return Self.json(#"{"errcode":93000,"errmsg":"invalid webhook url"}"#)
            }
        }
        if let limit {
            switch limit {
            case .wecom45009: return Self.json(#"{"errcode":45009,"errmsg":"api freq out of limit"}"#)
            case .dingtalk130101: return Self.json(#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#)
            case .dingtalk660026: return Self.json(#"{"errcode":660026,"errmsg":"send too fast"}"#)
            case .feishu9499: return Self.json(#"{"code":9499,"msg":"too many request","data":{}}"#)
            case .http429: return Self.json(#"{"code":9499,"msg":"too many request","data":{}}"#, status: .tooManyRequests)
            }
        }
        switch vendor {
        case .wecom, .dingtalk: return Self.json(#"{"errcode":0,"errmsg":"ok"}"#)
        case .feishu: return Self.json(#"{"code":0,"msg":"success","data":{}}"#)
        }
    }

    private func checkSignature(_ vendor: Vendor, robot: String, query: [String: String], body: Data) -> Bool {
        let secret = lock.withLock { secrets[robot] }
        let now = clock.now().timeIntervalSince1970
        switch vendor {
        case .wecom:
            return !robot.isEmpty  // the key in the URL is the only credential
        case .dingtalk:
            guard let secret else { return query["sign"] == nil }
            guard let timestamp = query["timestamp"], let sign = query["sign"], let ms = Double(timestamp), abs(ms / 1000 - now) <= 3600 else { return false }
            let mac = HMAC<SHA256>.authenticationCode(for: Data((timestamp + "\n" + secret).utf8), using: SymmetricKey(data: Data(secret.utf8)))
            return Data(mac).base64EncodedString() == sign
        case .feishu:
            guard let secret else { return true }
            let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            guard let timestamp = json["timestamp"] as? String, let sign = json["sign"] as? String, let seconds = Double(timestamp),
                  abs(seconds - now) <= 3600 else { return false }
            let mac = HMAC<SHA256>.authenticationCode(for: Data(), using: SymmetricKey(data: Data((timestamp + "\n" + secret).utf8)))
            return Data(mac).base64EncodedString() == sign
        }
    }

    /// Percent-decodes a raw query; `+` stays a plus (the sign is Base64).
    static func query(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.flatMap({ String($0).removingPercentEncoding }) else { continue }
            result[key] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
        }
        return result
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Secrets of the platform tests (all made up).
enum PlatformSecrets {
    static let wecomToken = "QDG6eK"
    static let wecomAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let wecomCorpID = "ww0123456789abcdef"
    static let dingtalkAppSecret = "dt-app-secret-7f3a9c"
    static let feishuEncryptKey = "fs-encrypt-key-2024"
    static let feishuToken = "fs-verification-token"
    static let feishuBotOpenID = "ou_bot_0001"
}

/// A bot on loopback that talks to `FakePlatformAPI` through the real `AsyncHTTPClientTransport`.
final class PlatformBot: @unchecked Sendable {
    let api: FakePlatformAPI
    let clock: ManualClock
    let config: BotConfig
    let store: SQLiteStore
    let app: LeagueApp
    private(set) var port = 0
    private var task: ServiceRun?

    /// Starts the fake platform API, writes a config whose platforms point at it, and starts the bot.
    /// - Parameter orgYAML: the org; `BASE` nowhere needed — the base URLs are in leagueops.yaml.
    init(orgYAML: String, store: SQLiteStore? = nil) async throws {
        clock = ManualClock(Date())
        api = FakePlatformAPI(clock: clock)
        try await api.start()
        let extra = """
            bot_names: [团务助手]
            """
        let path = try writeTestConfig(orgYAML: orgYAML, extra: extra)
        // Replace the platforms section with the three vendors pointed at the fake.
        var main = try String(contentsOfFile: path, encoding: .utf8)
        let platforms = """
            platforms:
              generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:9/messages}
              wecom: {token: \(PlatformSecrets.wecomToken), aes_key: \(PlatformSecrets.wecomAESKey), corp_id: \(PlatformSecrets.wecomCorpID), base_url: \(api.baseURL), bot_name: 团务助手}
              dingtalk: {app_secret: \(PlatformSecrets.dingtalkAppSecret), base_url: \(api.baseURL), bot_name: 团务助手}
              feishu: {encrypt_key: \(PlatformSecrets.feishuEncryptKey), verification_token: \(PlatformSecrets.feishuToken), base_url: \(api.baseURL), bot_open_id: \(PlatformSecrets.feishuBotOpenID), bot_name: 团务助手}
            """
        main = main.replacingOccurrences(of: "platforms:\n  generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:9/messages}", with: platforms)
        try main.write(toFile: path, atomically: true, encoding: .utf8)
        config = try ConfigLoader.load(path: path)
        self.store = try store ?? SQLiteStore(path: config.store.sqlitePath)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        app = try LeagueApp(config: config, store: self.store, clock: clock, transport: AsyncHTTPClientTransport(), logger: logger, maxSleep: 0.05)
        for unit in config.org.units {
            guard let group = unit.group else { continue }
            if let token = group.credentials["robot_token"], let secret = group.credentials["robot_secret"] { api.expectSecret(secret, for: token) }
            if let hook = group.credentials["hook"], let secret = group.credentials["hook_secret"] { api.expectSecret(secret, for: hook) }
        }
        (port, task) = await startServer(app)
    }

    func stop() async {
        await task?.stop()
        task = nil
        await api.stop()
    }

    func advance(_ seconds: Double) {
        clock.advance(by: seconds)
        app.wakeAll()
    }

    // MARK: Inbound, built with the adapters' own seal / sign helpers

    /// POSTs to the bot; returns status and body.
    func post(_ path: String, body: Data, headers: [String: String] = [:], repeatedHeaders: [(String, String)] = []) async throws -> (Int, String) {
        try await loopback(port: port, path: path, body: body, headers: headers, repeatedHeaders: repeatedHeaders)
    }

    /// A signed WeCom callback carrying `plaintext`: its query items (msg_signature, timestamp, nonce)
    /// and body — the JSON envelope of the 智能机器人, or with `app` the self-built app's XML envelope
    /// sealed for the corp id.
    func wecomSigned(_ plaintext: Data, app: Bool = false) throws -> (query: [(String, String)], body: Data) {
        let crypto = try #require(WeComCrypto(token: PlatformSecrets.wecomToken, encodingAESKey: PlatformSecrets.wecomAESKey))
        let encrypt = crypto.seal(Array(plaintext), receiveID: app ? PlatformSecrets.wecomCorpID : "")
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let nonce = String(UInt32.random(in: 1...UInt32.max))
        let signature = crypto.signature(timestamp: timestamp, nonce: nonce, encrypt: encrypt)
        let body = app
            ? Data("<xml><ToUserName><![CDATA[\(PlatformSecrets.wecomCorpID)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>".utf8)
            : try JSONSerialization.data(withJSONObject: ["encrypt": encrypt])
        return ([("msg_signature", signature), ("timestamp", timestamp), ("nonce", nonce)], body)
    }

    /// DingTalk's `timestamp` (ms, now) and `sign` headers.
    func dingtalkSignedHeaders() -> [String: String] {
        let timestamp = String(Int64(clock.now().timeIntervalSince1970 * 1000))
        return ["timestamp": timestamp, "sign": DingTalkAdapter.sign(timestamp: timestamp, secret: PlatformSecrets.dingtalkAppSecret)]
    }

    /// A Feishu event body: `plaintext` encrypted with the Encrypt Key, and its X-Lark-* signature headers.
    func feishuSigned(_ plaintext: Data) throws -> (body: Data, headers: [String: String]) {
        let encrypt = FeishuAdapter.encrypt(Array(plaintext), encryptKey: PlatformSecrets.feishuEncryptKey)
        let body = try JSONSerialization.data(withJSONObject: ["encrypt": encrypt])
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let nonce = "n\(UInt32.random(in: 1...UInt32.max))"
        return (body, [
            "X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": FeishuAdapter.signature(timestamp: timestamp, nonce: nonce, encryptKey: PlatformSecrets.feishuEncryptKey, body: body),
        ])
    }

    /// A WeCom 智能机器人 group message: encrypted JSON, `msg_signature` over token, timestamp, nonce, encrypt.
    @discardableResult
    func wecom(_ text: String, chat: String, from user: String, id: String = UUID().uuidString) async throws -> Int {
        let (query, body) = try wecomSigned(try wecomMessage(text, chat: chat, from: user, id: id))
        return try await post("/webhook/wecom?" + query.map { "\($0)=\($1)" }.joined(separator: "&"), body: body).0
    }

    /// The plaintext JSON of a WeCom 智能机器人 group text message.
    func wecomMessage(_ text: String, chat: String, from user: String, id: String = UUID().uuidString) throws -> Data {
        let plain: [String: Any] = [
            "msgid": id, "aibotid": "aib-test", "chatid": chat, "chattype": "group", "from": ["userid": user],
            "response_url": "https://example.invalid/response", "msgtype": "text", "text": ["content": text],
        ]
        return try JSONSerialization.data(withJSONObject: plain)
    }

    /// A DingTalk app-robot callback: headers `timestamp` (ms) and `sign` (HMAC-SHA256 with the app secret).
    @discardableResult
    func dingtalk(_ text: String, conversation: String, from staffID: String, id: String = UUID().uuidString) async throws -> Int {
        let body = try dingtalkMessage(text, conversation: conversation, from: staffID, id: id)
        return try await post("/webhook/dingtalk", body: body, headers: dingtalkSignedHeaders().merging(["Content-Type": "application/json"]) { $1 }).0
    }

    /// The JSON body of a DingTalk robot text message.
    func dingtalkMessage(_ text: String, conversation: String, from staffID: String, id: String = UUID().uuidString) throws -> Data {
        let ms = Int64(clock.now().timeIntervalSince1970 * 1000)
        let payload: [String: Any] = [
            "msgtype": "text", "text": ["content": " " + text], "msgId": id, "createAt": ms,
            "conversationType": "2", "conversationId": conversation, "conversationTitle": "测试群",
            "senderId": "$:LWCP_v1:$enc", "senderNick": "测试", "senderStaffId": staffID, "senderCorpId": "ding-corp",
            "chatbotUserId": "$:LWCP_v1:$bot", "robotCode": "ding-robot", "isAdmin": false, "isInAtList": true,
            "atUsers": [["dingtalkId": "$:LWCP_v1:$bot"]],
            "sessionWebhook": "https://example.invalid/robot/sendBySession?session=x", "sessionWebhookExpiredTime": ms + 5_400_000,
        ]
        return try JSONSerialization.data(withJSONObject: payload)
    }

    /// A Feishu im.message.receive_v1 event, encrypted, signed with X-Lark-Signature. `@bot` in the
    /// text becomes the bot's `@_user_1` placeholder.
    @discardableResult
    func feishu(_ text: String, chat: String, from openID: String, id: String = UUID().uuidString) async throws -> Int {
        let (body, headers) = try feishuSigned(try feishuEvent(text, chat: chat, from: openID, id: id))
        return try await post("/webhook/feishu", body: body, headers: headers.merging(["Content-Type": "application/json"]) { $1 }).0
    }

    /// The plaintext JSON of a Feishu im.message.receive_v1 text event (before encryption).
    func feishuEvent(_ text: String, chat: String, from openID: String, id: String = UUID().uuidString) throws -> Data {
        let mentionsBot = text.contains("@bot")
        let content = try String(decoding: JSONSerialization.data(withJSONObject: ["text": text.replacingOccurrences(of: "@bot", with: "@_user_1")]), as: UTF8.self)
        var message: [String: Any] = [
            "message_id": "om_\(id)", "chat_id": chat, "chat_type": "group", "message_type": "text", "content": content,
            "create_time": String(Int64(clock.now().timeIntervalSince1970 * 1000)),
        ]
        if mentionsBot {
            message["mentions"] = [["key": "@_user_1", "id": ["open_id": PlatformSecrets.feishuBotOpenID], "name": "团务助手", "tenant_key": "t"]]
        }
        let event: [String: Any] = [
            "schema": "2.0",
            "header": ["event_id": "ev_\(id)", "event_type": "im.message.receive_v1", "create_time": "0", "token": PlatformSecrets.feishuToken,
                       "app_id": "cli_test", "tenant_key": "t"],
            "event": ["sender": ["sender_id": ["open_id": openID], "sender_type": "user", "tenant_key": "t"], "message": message],
        ]
        return try JSONSerialization.data(withJSONObject: event)
    }

    // MARK: Waiting (bounded polling, no fixed sleeps)

    func waitUntil(_ what: String, timeout: Double = 15, _ condition: @escaping ([FakePlatformAPI.Received]) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(api.requests) { return }
            app.wakeAll()
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for: \(what)\nreceived so far:\n\(api.requests.map { "[\($0.vendor) \($0.robot) \($0.accepted ? "ok" : "refused")] \($0.text)" }.joined(separator: "\n"))")
        throw CancellationError()
    }

    /// Waits until every committed message is processed and nothing in the outbox is due now.
    func settle(timeout: Double = 15) async throws {
        try await settleBot(store: store, clock: clock, app: app, timeout: timeout)
    }

    /// Pending (unsent, not dead) outbox entries.
    func pendingOutbox() async throws -> [OutboxEntry] {
        try await store.read { try $0.dueOutbox(at: .distantFuture, limit: 10_000) }
    }
}
