import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import LeagueCore
import LeaguePlatforms
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// An in-process, scripted fake of Feishu's long-connection gateway and OpenAPI on 127.0.0.1:0:
/// `POST /callback/ws/endpoint` (scripted answers, single-use tickets), the pbbp2 WebSocket at
/// `/ws/v2` (pong to every ping, pushes on demand, every client frame recorded), and the app API
/// (`tenant_access_token/internal`, `im/v1/messages`). WeCom's AI-bot socket is served at `/wecom`.
public final class FakeGateway: Startable, @unchecked Sendable {
    public enum Bootstrap: Sendable { case ok, status(Int), code(Int), hang }

    public struct State {
        public var bootstrapScript: [Bootstrap] = []
        public var bootstraps = 0
        public var tickets: Set<String> = []
        public var refusedTickets = 0
        public var sockets: [Int: WebSocketOutboundWriter] = [:]
        public var nextSocket = 0
        public var fromClient: [(socket: Int, frame: FeishuFrame)] = []
        public var answerPings = true
        /// The `PingInterval` (seconds) announced in pongs.
        public var pongPingInterval = 120
        public var sends: [[String: Any]] = []
        public var tokenFetches = 0
        // WeCom
        public var wecomFrames: [(socket: Int, json: [String: Any])] = []
        public var wecomSockets: [Int: WebSocketOutboundWriter] = [:]
        public var wecomSubscribeErrcode = 0
        public var wecomAnswerPings = true
    }

    public let state = NIOLockedValueBox(State())
    public private(set) var port = 0
    private var task: ServiceRun?
    public static let serviceID: Int32 = 33_554_678

    public init() {}

    public var base: String { "http://127.0.0.1:\(port)" }

    public func start() async throws {
        let router = Router()
        router.post("/callback/ws/endpoint") { _, _ -> Response in
            let (step, ticket): (Bootstrap, String) = self.state.withLockedValue { state in
                state.bootstraps += 1
                let step = state.bootstrapScript.isEmpty ? .ok : state.bootstrapScript.removeFirst()
                let ticket = UUID().uuidString
                state.tickets.insert(ticket)
                return (step, ticket)
            }
            switch step {
            case .hang:
                try? await Task.sleep(for: .seconds(3))
                return jsonResponse(#"{"code":1,"msg":"late"}"#)
            case .status(let status):
                return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: "busy")))
            case .code(let code):
                return jsonResponse(#"{"code":\#(code),"msg":"scripted"}"#)
            case .ok:
                let url = "ws://127.0.0.1:\(self.port)/ws/v2?fpid=1&aid=2&device_id=dev-\(ticket.prefix(4))&access_key=k&service_id=\(Self.serviceID)&ticket=\(ticket)"
                return jsonResponse(#"{"code":0,"msg":"ok","data":{"URL":"\#(url)","ClientConfig":{"ReconnectCount":-1,"ReconnectInterval":120,"ReconnectNonce":30,"PingInterval":120}}}"#)
            }
        }
        router.post("/open-apis/auth/v3/tenant_access_token/internal") { _, _ -> Response in
            let n = self.state.withLockedValue { state -> Int in
                state.tokenFetches += 1
                return state.tokenFetches
            }
            return jsonResponse(#"{"code":0,"msg":"ok","tenant_access_token":"t-\#(n)","expire":7200}"#)
        }
        router.post("/open-apis/im/v1/messages") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
            self.state.withLockedValue { $0.sends.append(json) }
            return jsonResponse(#"{"code":0,"msg":"success","data":{"message_id":"om_x"}}"#)
        }
        // Stopped by cancelling: a hanging bootstrap and open sockets end at once.
        (port, task) = try await startLoopback(cancelOnStop: true) { running in
            Application(
                router: router,
                server: .http1WebSocketUpgrade { request, _, _ in
                    let path = request.path ?? ""
                    if path.hasPrefix("/wecom") {
                        return .upgrade([:]) { inbound, outbound, _ in try await self.wecomSession(inbound, outbound) }
                    }
                    guard path.hasPrefix("/ws/v2"), let ticket = URLComponents(string: path)?.queryItems?.first(where: { $0.name == "ticket" })?.value else {
                        return .dontUpgrade
                    }
                    // Tickets are valid once.
                    let valid = self.state.withLockedValue { state -> Bool in
                        guard state.tickets.remove(ticket) != nil else {
                            state.refusedTickets += 1
                            return false
                        }
                        return true
                    }
                    guard valid else { return .dontUpgrade }
                    return .upgrade([:]) { inbound, outbound, _ in try await self.feishuSession(inbound, outbound) }
                },
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: running, logger: quietLogger("fake-gateway")
            )
        }
    }

    public func stop() async {
        await task?.stop()
    }

    // MARK: Feishu socket

    private func feishuSession(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        let id = state.withLockedValue { state -> Int in
            state.nextSocket += 1
            state.sockets[state.nextSocket] = outbound
            return state.nextSocket
        }
        defer { _ = state.withLockedValue { $0.sockets.removeValue(forKey: id) } }
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .binary(let buffer) = message, let frame = try? FeishuFrame(decoding: buffer.readableBytesView) else { continue }
            let (answer, interval) = state.withLockedValue { state -> (Bool, Int) in
                state.fromClient.append((id, frame))
                return (state.answerPings, state.pongPingInterval)
            }
            if frame.type == "ping", answer {
                let pong = FeishuFrame(
                    service: Self.serviceID, method: 0, headers: [.init("type", "pong")],
                    payload: Data(#"{"ReconnectCount":-1,"ReconnectInterval":120,"ReconnectNonce":30,"PingInterval":\#(interval)}"#.utf8))
                try await outbound.write(.binary(ByteBuffer(bytes: pong.encoded())))
            }
        }
    }

    /// The open Feishu sockets, oldest first.
    public var openSockets: [Int] { state.withLockedValue { $0.sockets.keys.sorted() } }

    /// Pushes one frame on a socket (the newest when nil).
    public func push(_ frame: FeishuFrame, socket: Int? = nil) async throws {
        try await writer { $0.sockets[socket ?? $0.sockets.keys.max() ?? 0] }.write(.binary(ByteBuffer(bytes: frame.encoded())))
    }

    /// The socket `find` picks: the client may see the upgrade before the gateway's session has
    /// registered the socket, so this waits (up to 2 s) for it.
    private func writer(_ find: (State) -> WebSocketOutboundWriter?) async throws -> WebSocketOutboundWriter {
        var writer: WebSocketOutboundWriter?
        try await waitFor("an open socket on the fake gateway", timeout: 2, fallback: 0.01) {
            writer = state.withLockedValue { find($0) }
            return writer != nil
        }
        return try writer.orThrow("an open socket on the fake gateway")
    }

    /// The data frames the client answered (its ACKs).
    public var acks: [FeishuFrame] { state.withLockedValue { $0.fromClient.map(\.frame).filter { $0.method == 1 } } }
    public var pings: Int { state.withLockedValue { $0.fromClient.filter { $0.frame.type == "ping" }.count } }
    public var sends: [[String: Any]] { state.withLockedValue { $0.sends } }

    /// A pushed `im.message.receive_v1` text event as Feishu frames it (split in `parts` fragments).
    public static func event(messageID: String, chat: String, sender: String, text: String, seqID: UInt64, logID: UInt64, parts: Int = 1) -> [FeishuFrame] {
        let content = String(decoding: try! JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self)
        let event: [String: Any] = [
            "schema": "2.0",
            "header": ["event_id": "ev-\(messageID)-\(seqID)", "event_type": "im.message.receive_v1", "create_time": "1780000000000", "app_id": "cli_a1"],
            "event": [
                "sender": ["sender_id": ["open_id": sender], "sender_type": "user"],
                "message": [
                    "message_id": messageID, "chat_id": chat, "chat_type": "group", "message_type": "text", "content": content,
                    "create_time": "1780000000000",
                    "mentions": [["key": "@_user_1", "id": ["open_id": "ou_bot"], "name": "团务助手"]],
                ],
            ],
        ]
        let payload = try! JSONSerialization.data(withJSONObject: event)
        var frames: [FeishuFrame] = []
        let size = (payload.count + parts - 1) / parts
        for index in 0..<parts {
            let slice = payload.subdata(in: min(index * size, payload.count)..<min((index + 1) * size, payload.count))
            frames.append(
                FeishuFrame(
                    seqID: seqID + UInt64(index), logID: logID, service: serviceID, method: 1,
                    headers: [
                        .init("type", "event"), .init("message_id", "msg-\(messageID)"), .init("sum", "\(parts)"), .init("seq", "\(index)"),
                        .init("trace_id", "tr-\(messageID)"),
                    ], payload: slice))
        }
        return frames
    }

    // MARK: WeCom socket

    private func wecomSession(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        let id = state.withLockedValue { state -> Int in
            state.nextSocket += 1
            state.wecomSockets[state.nextSocket] = outbound
            return state.nextSocket
        }
        defer { _ = state.withLockedValue { $0.wecomSockets.removeValue(forKey: id) } }
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message, let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { continue }
            let requestID = (json["headers"] as? [String: Any])?["req_id"] as? String ?? ""
            let (errcode, answer) = state.withLockedValue { state -> (Int, Bool) in
                state.wecomFrames.append((id, json))
                switch json["cmd"] as? String {
                case "aibot_subscribe": return (state.wecomSubscribeErrcode, true)
                case "ping": return (0, state.wecomAnswerPings)
                default: return (0, true)
                }
            }
            guard answer else { continue }
            try await outbound.write(.text(#"{"headers":{"req_id":"\#(requestID)"},"errcode":\#(errcode),"errmsg":"\#(errcode == 0 ? "ok" : "invalid secret")"}"#))
        }
    }

    public var wecomFrames: [[String: Any]] { state.withLockedValue { $0.wecomFrames.map(\.json) } }

    /// Sends a text frame on a WeCom socket (the newest when nil), waiting for it like `push`.
    public func wecomPush(_ json: String, socket: Int? = nil) async throws {
        try await writer { $0.wecomSockets[socket ?? $0.wecomSockets.keys.max() ?? 0] }.write(.text(json))
    }

    public static func wecomMessage(msgID: String, chat: String, from: String, text: String) -> String {
        let body: [String: Any] = [
            "msgid": msgID, "aibotid": "aib1", "chatid": chat, "chattype": "group", "from": ["userid": from],
            "msgtype": "text", "text": ["content": "@团务助手 \(text)"],
        ]
        let frame: [String: Any] = ["cmd": "aibot_msg_callback", "headers": ["req_id": "push-\(msgID)"], "body": body]
        return String(decoding: try! JSONSerialization.data(withJSONObject: frame), as: UTF8.self)
    }
}
