import Foundation
import HummingbirdWSClient
import LeagueCore
import LeaguePlatforms
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The WeCom 智能机器人 long connection (`platforms.wecom.mode: long_connection`) as a `StreamDriver`,
/// and the sender for every WeCom group bound by chat id only.
///
/// * No HTTP bootstrap: the socket opens at `ws_url`, the first frame is `aibot_subscribe` with bot id
///   and secret; an ack with errcode ≠ 0 stops the connection (bad credentials).
/// * `{"cmd":"ping"}` every `keepalive`; two pings in a row without an ack close the socket.
/// * `aibot_msg_callback` pushes are committed through the `Ingestor` (WeCom has no ACK of pushes;
///   a re-push is a duplicate by `msgid`).
/// * `disconnected_event`: another connection subscribed with this bot (WeCom allows one); this one
///   stops and says so rather than fighting for the bot.
/// * `aibot_send_msg` on the live socket sends into any chat the bot is in; its ack is the outcome.
public final class WeComDriver: StreamDriver, AppSender, Sendable {
    public let name = "wecom"
    public var platform: String { name }
    public let policy: ConnectionPolicy
    public var usesWebSocketPing: Bool { false }
    let botID: String
    let botSecret: String
    let wsURL: String
    let adapter: WeComAdapter
    let push: PushIngest
    let logger: Logger
    /// How long a command waits for its ack (the SDK's 5 s).
    let commandTimeout: Double

    struct Ack: Sendable, Equatable {
        var errcode: Int64
        var errmsg: String
    }

    private struct Live: Sendable {
        var socket: StreamSocket?
        var subscribeID: String?
        var waiting: [String: CheckedContinuation<Ack?, Never>] = [:]
        /// Pings sent on the live socket since the last ping ack.
        var unansweredPings = 0
    }
    private let live = NIOLockedValueBox(Live())

    public init(
        policy: ConnectionPolicy, botID: String, botSecret: String, wsURL: String, adapter: WeComAdapter,
        push: PushIngest, logger: Logger, commandTimeout: Double = 5
    ) {
        self.policy = policy
        self.botID = botID
        self.botSecret = botSecret
        self.wsURL = wsURL
        self.adapter = adapter
        self.push = push
        self.logger = logger
        self.commandTimeout = commandTimeout
    }

    // MARK: StreamDriver

    public func bootstrap() async throws -> String { wsURL }

    public func opened(_ socket: StreamSocket) async throws {
        let id = Self.requestID("aibot_subscribe")
        live.withLockedValue {
            $0.socket = socket
            $0.subscribeID = id
            $0.unansweredPings = 0
        }
        let frame = Self.frame("aibot_subscribe", id: id, body: .object([("bot_id", .string(botID)), ("secret", .string(botSecret))]))
        try await socket.send(text: frame)
    }

    public func lane(of message: WebSocketMessage) -> FrameLane {
        guard case .text(let text) = message, text.contains("aibot_msg_callback") else { return .inline }
        return .serial
    }

    public func keepalive(_ socket: StreamSocket) async throws {
        let missed = live.withLockedValue { live -> Int in
            guard live.socket?.id == socket.id else { return 0 }
            live.unansweredPings += 1
            return live.unansweredPings - 1
        }
        if missed >= 2 { throw ConnectionFailure.retry("WeCom: two pings in a row were not acknowledged") }
        try await socket.send(text: Self.frame("ping", id: Self.requestID("ping"), body: nil))
    }

    public func receive(_ message: WebSocketMessage, on socket: StreamSocket) async -> FrameOutcome {
        guard case .text(let text) = message,
            let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else {
            return .handled
        }
        let requestID = (json["headers"] as? [String: Any])?["req_id"] as? String ?? ""
        let cmd = json["cmd"] as? String
        if cmd == nil || cmd == "", let code = json["errcode"] as? NSNumber {
            let ack = Ack(errcode: code.int64Value, errmsg: json["errmsg"] as? String ?? "")
            let (isSubscribe, waiter) = live.withLockedValue { live -> (Bool, CheckedContinuation<Ack?, Never>?) in
                if requestID.hasPrefix("ping") { live.unansweredPings = 0 }
                return (requestID == live.subscribeID, live.waiting.removeValue(forKey: requestID))
            }
            waiter?.resume(returning: ack)
            if isSubscribe {
                guard ack.errcode == 0 else {
                    return .stop(.fatal("WeCom aibot_subscribe refused: errcode \(ack.errcode) \(ack.errmsg) (check platforms.wecom.bot_id / bot_secret)"))
                }
                logger.info("WeCom AI-bot long connection subscribed", metadata: ["socket": "\(socket.id)"])
            }
            return .handled
        }
        let body = json["body"] as? [String: Any] ?? [:]
        switch cmd {
        case "aibot_msg_callback":
            guard let data = try? JSONSerialization.data(withJSONObject: body) else { return .handled }
            _ = await push.commit(platform: name) { () throws(InboundRejection) in try adapter.decodePushedAIBot(data, now: Date()) }
        case "aibot_event_callback":
            if (body["event"] as? [String: Any])?["eventtype"] as? String == "disconnected_event" {
                live.withLockedValue { if $0.socket?.id == socket.id { $0.socket = nil } }
                return .stop(.fatal("WeCom disconnected_event: another connection subscribed with this bot_id; this instance stopped and does not reconnect"))
            }
        default:
            break
        }
        return .handled
    }

    // MARK: AppSender

    /// The AI bot's proactive send limit is not documented; 20 a minute per chat like the group robot [unconfirmed].
    public var perChatLimit: RateLimit { RateLimit(perMinute: 20) }
    /// Not documented either; a conservative 10 a second for the whole bot [unconfirmed].
    public var perAppLimit: RateLimit { RateLimit(perSecond: 10) }

    public func handles(_ binding: GroupBinding) -> Bool {
        binding.platform == name && (binding.credentials["robot_key"] ?? "").isEmpty
    }

    /// `aibot_send_msg` with a markdown body; members are @-mentioned inline as `<@userid>`.
    public func send(_ message: OutboundMessage, timeout: Double) async -> DeliveryOutcome {
        guard let ack = await command("aibot_send_msg", body: Self.sendBody(message), timeout: min(timeout, commandTimeout)) else {
            return .retryLater("WeCom long connection is not connected or did not acknowledge the send")
        }
        return Self.classify(ack)
    }

    static func sendBody(_ message: OutboundMessage) -> OutJSON {
        var text = message.text
        for mention in message.mentions {
            guard let id = mention.userID, !id.isEmpty else { continue }
            let tag = id == "@all" || id == "all" ? "<@all>" : "<@\(id)>"
            if !text.contains(tag) { text += " " + tag }
        }
        return .object([
            ("chatid", .string(message.group.chat)),
            ("msgtype", .string("markdown")),
            ("markdown", .object([("content", .string(WireText.cut(text, maxBytes: 20_480)))])),
        ])
    }

    /// 0 delivered; 45009 / 45033 (frequency) rate limited; -1 (system busy) retried; anything else
    /// permanent (846605 invalid req_id, 40058 bad parameter, a chat the bot is not in …).
    static func classify(_ ack: Ack) -> DeliveryOutcome {
        let detail = "WeCom errcode \(ack.errcode): \(ack.errmsg)"
        switch ack.errcode {
        case 0: return .delivered
        case 45009, 45033: return .rateLimited(retryAfter: nil, detail)
        case -1: return .retryLater(detail)
        default: return .permanentFailure(detail)
        }
    }

    // MARK: Commands

    static func requestID(_ cmd: String) -> String {
        "\(cmd)_\(Int64(Date().timeIntervalSince1970 * 1000))_\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    static func frame(_ cmd: String, id: String, body: OutJSON?) -> String {
        var members: [(String, OutJSON)] = [("cmd", .string(cmd)), ("headers", .object([("req_id", .string(id))]))]
        if let body { members.append(("body", body)) }
        return OutJSON.object(members).text
    }

    /// Sends a command on the live socket and waits for its ack; nil when there is no socket, the
    /// write failed or no ack came within `timeout`.
    func command(_ cmd: String, body: OutJSON?, timeout: Double) async -> Ack? {
        guard let socket = live.withLockedValue({ $0.socket }) else { return nil }
        let id = Self.requestID(cmd)
        let frame = Self.frame(cmd, id: id, body: body)
        return await withCheckedContinuation { continuation in
            live.withLockedValue { $0.waiting[id] = continuation }
            Task {
                do { try await socket.send(text: frame) } catch { self.resolve(id, nil) }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                self.resolve(id, nil)
            }
        }
    }

    private func resolve(_ id: String, _ ack: Ack?) {
        live.withLockedValue { $0.waiting.removeValue(forKey: id) }?.resume(returning: ack)
    }
}
