import Foundation
import Hummingbird
import HummingbirdWebSocket
import LeagueCore
import LeaguePlatforms
import Logging
import NIOCore
import NIOWebSocket

/// A scripted DingTalk on loopback: the Stream gateway (bootstrap, single-use tickets, the WebSocket,
/// SYSTEM ping / disconnect, CALLBACK pushes, recorded ACKs, redelivery) and the OpenAPI the app robot
/// sends through (access token, group messages).
public final class FakeDingTalkGateway: Startable, @unchecked Sendable {
    public enum Bootstrap: Sendable {
        /// Answer with this status and body.
        case status(Int, String)
        /// Accept the request and never answer (until the gateway stops).
        case hang
    }

    public struct Socket: @unchecked Sendable {
        public let id: Int
        public let ticket: String
        public let writer: WebSocketOutboundWriter
        /// When the upgrade completed on the gateway's side.
        public var openedAt = Date()
    }

    public struct Sent: Sendable {
        public var chat: String
        public var robotCode: String
        public var msgKey: String
        public var content: String
        public var token: String
    }

    /// Fired on every request and every frame a client sends.
    public let changed = Signal()
    public let clientID = "dingappkey1"
    public let clientSecret = "dingsecret1"
    private let lock = NSLock()
    private var bootstrapScript: [Bootstrap] = []
    private var issued: [String: Date] = [:]
    private var used: Set<String> = []
    public private(set) var refusedTickets: [String] = []
    private var sockets: [Socket] = []
    private var closedSockets: Set<Int> = []
    private var frames: [(socket: Int, text: String)] = []
    private var bootstrapCalls = 0
    private var tokens: [String: Date] = [:]
    private var tokenCount = 0
    private var sendScript: [(Int, String)] = []
    private var sent: [Sent] = []
    private var hanging: [CheckedContinuation<Void, Never>] = []
    /// Fired once by `stop()`: hanging bootstraps answer and open sessions end.
    private let stopping = Signal()
    private var stopped = false
    public private(set) var port = 0
    private var task: ServiceRun?
    /// Lifetime of issued access tokens, seconds.
    public var tokenLifetime = 7200

    public init() {}

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var bootstrapCount: Int { lock.withLock { bootstrapCalls } }
    public var openSockets: [Socket] { lock.withLock { sockets.filter { !closedSockets.contains($0.id) } } }
    public var allSockets: [Socket] { lock.withLock { sockets } }
    public var tokensIssued: Int { lock.withLock { tokenCount } }
    public var messages: [Sent] { lock.withLock { sent } }
    public var refused: [String] { lock.withLock { refusedTickets } }

    public func scriptBootstrap(_ answers: [Bootstrap]) { lock.withLock { bootstrapScript = answers } }
    public func scriptSends(_ answers: [(Int, String)]) { lock.withLock { sendScript = answers } }
    /// The client's answers to one pushed frame (ACKs): socket, parsed frame, `code` and `data`.
    public func acks(of messageID: String) -> [(socket: Int, frame: DingTalkStream.Frame?, code: Int?, data: String?)] {
        lock.withLock { frames }.compactMap { entry in
            guard let json = try? JSONSerialization.jsonObject(with: Data(entry.text.utf8)) as? [String: Any],
                let headers = json["headers"] as? [String: Any], headers["messageId"] as? String == messageID
            else { return nil }
            return (entry.socket, DingTalkStream.Frame.parse(entry.text), json["code"] as? Int, json["data"] as? String)
        }
    }

    public func start() async throws {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.post("/v1.0/gateway/connections/open") { request, _ in try await self.bootstrap(request) }
        router.post("/v1.0/oauth2/accessToken") { request, _ in try await self.accessToken(request) }
        router.post("/v1.0/robot/groupMessages/send") { request, _ in try await self.groupSend(request) }
        router.post("/robot/send") { request, _ in
            // The custom robot of a group that has one.
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
            let content = ((json["text"] as? [String: Any])?["content"] as? String) ?? ""
            let token = request.uri.queryParameters.get("access_token") ?? ""
            self.lock.withLock { self.sent.append(Sent(chat: "robot:" + token, robotCode: "", msgKey: "custom", content: content, token: "")) }
            return jsonResponse(#"{"errcode":0,"errmsg":"ok"}"#)
        }
        router.ws(
            "/connect",
            shouldUpgrade: { request, _ in
                let ticket = request.uri.queryParameters.get("ticket") ?? ""
                let ok: Bool = self.lock.withLock {
                    guard let issuedAt = self.issued[ticket], !self.used.contains(ticket), Date().timeIntervalSince(issuedAt) < 90 else {
                        self.refusedTickets.append(ticket)
                        return false
                    }
                    self.used.insert(ticket)
                    return true
                }
                return ok ? .upgrade([:]) : .dontUpgrade
            },
            onUpgrade: { inbound, outbound, context in
                let ticket = context.request.uri.queryParameters.get("ticket") ?? ""
                let id: Int = self.lock.withLock {
                    let id = self.sockets.count + 1
                    self.sockets.append(Socket(id: id, ticket: ticket, writer: outbound))
                    return id
                }
                self.changed.fire()
                // The session ends when the client closes it or when the gateway stops (a socket the client
                // abandoned without a close must not keep the server from stopping).
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                if case .text(let text) = message {
                                    self.lock.withLock { self.frames.append((id, text)) }
                                    self.changed.fire()
                                }
                            }
                        } catch {}
                    }
                    group.addTask { await self.stopping.wait(after: 0, seconds: 3600) }
                    await group.next()
                    group.cancelAll()
                }
                self.lock.withLock { _ = self.closedSockets.insert(id) }
                self.changed.fire()
            })
        // Its WebSocket server sometimes outlives its stop (graceful shutdown and cancellation both time
        // out, about one run in three on a 2-core machine; not yet explained: the bot under test has stopped
        // by then, and the same happens with the session handler returning at once). The stall is logged, not
        // failed on: the bot's own stop, which is what the tests are about, still fails on a stall.
        (port, task) = try await startLoopback(stallFails: false) { running in
            Application(
                router: router, server: .http1WebSocketUpgrade(webSocketRouter: router),
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "FakeDingTalk"),
                onServerRunning: running, logger: quietLogger("fake-dingtalk")
            )
        }
    }

    public func stop() async {
        let waiting = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            stopped = true
            defer { hanging = [] }
            return hanging
        }
        stopping.fire()
        for continuation in waiting { continuation.resume() }
        for socket in openSockets { try? await socket.writer.close(.goingAway, reason: nil) }
        await task?.stop()
        task = nil
    }

    // MARK: HTTP

    private func bootstrap(_ request: Request) async throws -> Response {
        defer { changed.fire() }
        let body = try await request.body.collect(upTo: 1 << 16)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
        let answer: Bootstrap? = lock.withLock {
            bootstrapCalls += 1
            return bootstrapScript.isEmpty ? nil : bootstrapScript.removeFirst()
        }
        switch answer {
        case .status(let status, let text):
            return jsonResponse(text, status: status)
        case .hang:
            await withCheckedContinuation { continuation in
                let now = lock.withLock { () -> Bool in
                    if stopped { return true }
                    hanging.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
            return jsonResponse("{}", status: 500)
        case nil:
            let subscriptions = json["subscriptions"] as? [[String: Any]] ?? []
            guard json["clientId"] as? String == clientID, json["clientSecret"] as? String == clientSecret,
                subscriptions.contains(where: { $0["topic"] as? String == DingTalkStream.botMessageTopic && $0["type"] as? String == "CALLBACK" })
            else {
                return jsonResponse(#"{"code":"InvalidAuthentication","message":"bad client"}"#, status: 401)
            }
            let ticket = UUID().uuidString
            lock.withLock { issued[ticket] = Date() }
            return jsonResponse(#"{"endpoint":"ws://127.0.0.1:\#(port)/connect","ticket":"\#(ticket)"}"#)
        }
    }

    private func accessToken(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
        guard json["appKey"] as? String == clientID, json["appSecret"] as? String == clientSecret else {
            return jsonResponse(#"{"code":"invalidClientIdOrSecret","message":"bad"}"#, status: 400)
        }
        let token: String = lock.withLock {
            tokenCount += 1
            let token = "tok-\(tokenCount)"
            tokens[token] = Date().addingTimeInterval(Double(tokenLifetime))
            return token
        }
        return jsonResponse(#"{"accessToken":"\#(token)","expireIn":\#(tokenLifetime)}"#)
    }

    /// Makes every issued token invalid (as if it expired on DingTalk's side).
    public func expireTokens() { lock.withLock { tokens = [:] } }

    private func groupSend(_ request: Request) async throws -> Response {
        defer { changed.fire() }
        let token = request.headers[.init("x-acs-dingtalk-access-token")!] ?? ""
        let body = try await request.body.collect(upTo: 1 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
        let valid = lock.withLock { tokens[token].map { $0 > Date() } ?? false }
        guard valid else { return jsonResponse(#"{"code":"InvalidAuthentication","message":"token invalid"}"#, status: 401) }
        if let scripted = lock.withLock({ sendScript.isEmpty ? nil : sendScript.removeFirst() }) {
            return jsonResponse(scripted.1, status: scripted.0)
        }
        let param = (json["msgParam"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
        let content = (param["content"] as? String) ?? (param["text"] as? String) ?? ""
        lock.withLock {
            sent.append(
                Sent(
                    chat: json["openConversationId"] as? String ?? "", robotCode: json["robotCode"] as? String ?? "",
                    msgKey: json["msgKey"] as? String ?? "", content: content, token: token))
        }
        return jsonResponse(#"{"processQueryKey":"q-\#(UUID().uuidString)"}"#)
    }

    // MARK: Pushes

    public func send(_ text: String, on socket: Int) async throws {
        guard let target = lock.withLock({ sockets.first { $0.id == socket } }) else { throw CancellationError() }
        try await target.writer.write(.text(text))
    }

    public func ping(on socket: Int, messageID: String, opaque: String) async throws {
        let data = #"{\"opaque\":\"\#(opaque)\"}"#
        try await send(
            #"{"specVersion":"1.0","type":"SYSTEM","headers":{"topic":"ping","messageId":"\#(messageID)","contentType":"application/json","time":"1690362102194"},"data":"\#(data)"}"#, on: socket)
    }

    public func disconnect(on socket: Int) async throws {
        try await send(
            #"{"specVersion":"1.0","type":"SYSTEM","headers":{"topic":"disconnect","messageId":"dis-\#(socket)","contentType":"application/json"},"data":"{\"reason\":\"connection is expired\"}"}"#,
            on: socket)
    }

    /// A robot message in a group, as a CALLBACK push.
    public func botMessage(on socket: Int, messageID: String, msgID: String, chat: String, sender: String, text: String) async throws {
        let data: [String: Any] = [
            "conversationId": chat, "msgId": msgID, "senderStaffId": sender, "conversationType": "2", "isInAtList": true,
            "text": ["content": " " + text], "msgtype": "text", "robotCode": clientID, "createAt": 1_690_362_102_152,
            "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=x",
        ]
        let dataText = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys]), as: UTF8.self)
        let frame: [String: Any] = [
            "specVersion": "1.0", "type": "CALLBACK",
            "headers": [
                "appId": "app", "connectionId": "c", "contentType": "application/json", "messageId": messageID,
                "time": "1690362102194", "topic": DingTalkStream.botMessageTopic,
            ],
            "data": dataText,
        ]
        try await send(String(decoding: try JSONSerialization.data(withJSONObject: frame, options: [.sortedKeys]), as: UTF8.self), on: socket)
    }

    /// Waits (bounded) until the client has a socket open.
    public func waitForSocket(timeout: Double = 10) async throws {
        try await wait("a socket open", timeout: timeout) { !openSockets.isEmpty }
    }

    /// Waits (bounded) for a condition on the gateway's state; wakes on every request and frame.
    public func wait(_ what: String, timeout: Double = 10, _ condition: () -> Bool) async throws {
        try await waitFor(what, timeout: timeout, signal: changed, fallback: 0.1) { condition() }
    }
}
