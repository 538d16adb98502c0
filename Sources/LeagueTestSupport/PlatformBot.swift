import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTransport

/// A live `TestBot` whose three vendors (WeCom, DingTalk, Feishu) point at a `FakePlatform`, sending
/// through the real `AsyncHTTPClientTransport`; inbound messages are built with the adapters' own seal
/// and sign helpers. Start it with `withPlatformBot` so both are stopped and awaited.
public final class PlatformBot: Stoppable, @unchecked Sendable {
    public let api: FakePlatform
    public let bot: TestBot
    public var clock: ManualClock { bot.clock }
    public var config: BotConfig { bot.config }
    public var store: SQLiteStore { bot.store }
    public var app: LeagueApp { bot.app }
    public var port: Int { bot.port }

    /// Starts the fake platform, writes a config whose platforms point at it, and starts the bot.
    public init(orgYAML: String, store: SQLiteStore? = nil) async throws {
        let clock = ManualClock(Date())
        let api = FakePlatform(clock: clock)
        try await api.start()
        self.api = api
        let platforms = """
              generic: {secret: \(testSecret), outbound_url: http://127.0.0.1:9/messages}
              wecom: {token: \(PlatformSecrets.wecomToken), aes_key: \(PlatformSecrets.wecomAESKey), corp_id: \(PlatformSecrets.wecomCorpID), base_url: \(api.baseURL), bot_name: 团务助手}
              dingtalk: {app_secret: \(PlatformSecrets.dingtalkAppSecret), base_url: \(api.baseURL), bot_name: 团务助手}
              feishu: {encrypt_key: \(PlatformSecrets.feishuEncryptKey), verification_token: \(PlatformSecrets.feishuToken), base_url: \(api.baseURL), bot_open_id: \(PlatformSecrets.feishuBotOpenID), bot_name: 团务助手}
            """
        do {
            let path = try writeTestConfig(orgYAML: orgYAML, extra: "bot_names: [团务助手]", platforms: platforms)
            bot = try await TestBot(configPath: path, store: store, clock: clock, transport: AsyncHTTPClientTransport())
        } catch {
            await api.stop()
            throw error
        }
        api.arrived.relay(to: bot.changed)
        for unit in bot.config.org.units {
            guard let group = unit.group else { continue }
            if let token = group.credentials["robot_token"], let secret = group.credentials["robot_secret"] { api.expectSecret(secret, for: token) }
            if let hook = group.credentials["hook"], let secret = group.credentials["hook_secret"] { api.expectSecret(secret, for: hook) }
        }
    }

    public func stop() async {
        await bot.stop()
        await api.stop()
    }

    public func advance(_ seconds: Double) { bot.advance(seconds) }

    /// POSTs to the bot; returns status and body.
    public func post(_ path: String, body: Data, headers: [String: String] = [:], repeatedHeaders: [(String, String)] = []) async throws -> (Int, String) {
        try await bot.post(path: path, body: body, headers: headers, repeatedHeaders: repeatedHeaders)
    }

    /// A signed WeCom callback carrying `plaintext`: its query items (msg_signature, timestamp, nonce)
    /// and body — the JSON envelope of the 智能机器人, or with `app` the self-built app's XML envelope
    /// sealed for the corp id.
    public func wecomSigned(_ plaintext: Data, app: Bool = false) throws -> (query: [(String, String)], body: Data) {
        let crypto = try WeComCrypto(token: PlatformSecrets.wecomToken, encodingAESKey: PlatformSecrets.wecomAESKey).orThrow("the WeCom test key does not decode")
        let encrypt = crypto.seal(Array(plaintext), receiveID: app ? PlatformSecrets.wecomCorpID : "")
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let nonce = String(UInt32.random(in: 1...UInt32.max))
        let signature = crypto.signature(timestamp: timestamp, nonce: nonce, encrypt: encrypt)
        let body =
            app
            ? Data("<xml><ToUserName><![CDATA[\(PlatformSecrets.wecomCorpID)]]></ToUserName><Encrypt><![CDATA[\(encrypt)]]></Encrypt></xml>".utf8)
            : try JSONSerialization.data(withJSONObject: ["encrypt": encrypt])
        return ([("msg_signature", signature), ("timestamp", timestamp), ("nonce", nonce)], body)
    }

    /// DingTalk's `timestamp` (ms, now) and `sign` headers.
    public func dingtalkSignedHeaders() -> [String: String] {
        let timestamp = String(Int64(clock.now().timeIntervalSince1970 * 1000))
        return ["timestamp": timestamp, "sign": DingTalkAdapter.sign(timestamp: timestamp, secret: PlatformSecrets.dingtalkAppSecret)]
    }

    /// A Feishu event body: `plaintext` encrypted with the Encrypt Key, and its X-Lark-* signature headers.
    public func feishuSigned(_ plaintext: Data) throws -> (body: Data, headers: [String: String]) {
        let encrypt = FeishuAdapter.encrypt(Array(plaintext), encryptKey: PlatformSecrets.feishuEncryptKey)
        let body = try JSONSerialization.data(withJSONObject: ["encrypt": encrypt])
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let nonce = "n\(UInt32.random(in: 1...UInt32.max))"
        return (
            body,
            [
                "X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                "X-Lark-Signature": FeishuAdapter.signature(timestamp: timestamp, nonce: nonce, encryptKey: PlatformSecrets.feishuEncryptKey, body: body),
            ]
        )
    }

    /// A WeCom 智能机器人 group message: encrypted JSON, `msg_signature` over token, timestamp, nonce, encrypt.
    @discardableResult
    public func wecom(_ text: String, chat: String, from user: String, id: String = UUID().uuidString) async throws -> Int {
        let (query, body) = try wecomSigned(try wecomMessage(text, chat: chat, from: user, id: id))
        return try await post("/webhook/wecom?" + query.map { "\($0)=\($1)" }.joined(separator: "&"), body: body).0
    }

    /// The plaintext JSON of a WeCom 智能机器人 group text message.
    public func wecomMessage(_ text: String, chat: String, from user: String, id: String = UUID().uuidString) throws -> Data {
        let plain: [String: Any] = [
            "msgid": id, "aibotid": "aib-test", "chatid": chat, "chattype": "group", "from": ["userid": user],
            "response_url": "https://example.invalid/response", "msgtype": "text", "text": ["content": text],
        ]
        return try JSONSerialization.data(withJSONObject: plain)
    }

    /// A DingTalk app-robot callback: headers `timestamp` (ms) and `sign` (HMAC-SHA256 with the app secret).
    @discardableResult
    public func dingtalk(_ text: String, conversation: String, from staffID: String, id: String = UUID().uuidString) async throws -> Int {
        let body = try dingtalkMessage(text, conversation: conversation, from: staffID, id: id)
        return try await post("/webhook/dingtalk", body: body, headers: dingtalkSignedHeaders().merging(["Content-Type": "application/json"]) { $1 }).0
    }

    /// The JSON body of a DingTalk robot text message.
    public func dingtalkMessage(_ text: String, conversation: String, from staffID: String, id: String = UUID().uuidString) throws -> Data {
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
    public func feishu(_ text: String, chat: String, from openID: String, id: String = UUID().uuidString) async throws -> Int {
        let (body, headers) = try feishuSigned(try feishuEvent(text, chat: chat, from: openID, id: id))
        return try await post("/webhook/feishu", body: body, headers: headers.merging(["Content-Type": "application/json"]) { $1 }).0
    }

    /// The plaintext JSON of a Feishu im.message.receive_v1 text event (before encryption).
    public func feishuEvent(_ text: String, chat: String, from openID: String, id: String = UUID().uuidString) throws -> Data {
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
            "header": [
                "event_id": "ev_\(id)", "event_type": "im.message.receive_v1", "create_time": "0", "token": PlatformSecrets.feishuToken,
                "app_id": "cli_test", "tenant_key": "t",
            ],
            "event": ["sender": ["sender_id": ["open_id": openID], "sender_type": "user", "tenant_key": "t"], "message": message],
        ]
        return try JSONSerialization.data(withJSONObject: event)
    }

    // MARK: Waiting

    /// Waits (bounded) until `condition` holds on what the fake platform received; wakes on each request.
    public func waitUntil(_ what: String, timeout: Double = 15, _ condition: ([FakePlatform.Received]) -> Bool) async throws {
        try await api.wait(what, timeout: timeout, condition)
    }

    /// Waits until every committed message is processed and nothing in the outbox is due now.
    public func settle(timeout: Double = 15) async throws { try await bot.settle(timeout: timeout) }

    /// Pending (unsent, not dead) outbox entries.
    public func pendingOutbox() async throws -> [OutboxEntry] { try await bot.pendingOutbox() }
}

/// Runs `body` with a `PlatformBot` and always awaits the stop of the bot and its fake platform.
public func withPlatformBot<T>(orgYAML: String, store: SQLiteStore? = nil, _ body: (PlatformBot) async throws -> T) async throws -> T {
    try await withRunning(try await PlatformBot(orgYAML: orgYAML, store: store), body)
}

extension Optional {
    /// The value, or a thrown `WaitTimedOut`-style error naming what was missing.
    public func orThrow(_ what: String) throws -> Wrapped {
        guard let self else { throw MissingValue(description: what) }
        return self
    }
}

/// A value a test support helper needed and did not get.
public struct MissingValue: Error, CustomStringConvertible {
    public var description: String
}
