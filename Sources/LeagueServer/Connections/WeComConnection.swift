import Foundation
import HummingbirdWSClient
import LeagueCore
import LeaguePlatforms
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Settings of the WeCom AI-bot long connection (`platforms.wecom` with `mode: long_connection`).
public struct WeComConnectionSettings: Sendable {
    public var botID: String
    public var botSecret: String
    public var wsURL: String
    /// `{"cmd":"ping"}` period (the SDK's 30 s).
    public var keepalive: Double = 30
    /// No frame of any kind for this long means the socket is dead (two missed ping acks + margin).
    public var deadAfter: Double = 75
    public var connectTimeout: Double = 10
    /// How long a command (`aibot_subscribe`, `aibot_send_msg`) waits for its ack.
    public var commandTimeout: Double = 5
    public var tick: Double = 1
    public var backoff = Backoff(base: 1, cap: 60, jitter: 0.2)

    public init(botID: String, botSecret: String, wsURL: String) {
        self.botID = botID
        self.botSecret = botSecret
        self.wsURL = wsURL
    }
}

/// The WeCom 智能机器人 long connection: `aibot_subscribe` with bot id and secret as the first frame,
/// `{"cmd":"ping"}` keepalives, pushed `aibot_msg_callback` messages committed through the `Ingestor`
/// (WeCom has no ACK of pushes; duplicates are dropped by `msgid`), and `aibot_send_msg` on the same
/// socket for every group bound by chat id only. A `disconnected_event` means another connection
/// took the bot (WeCom allows one): this one stops and says so, it does not fight back.
public final class WeComConnection: AppSender, Sendable {
    public let platform = "wecom"
    let settings: WeComConnectionSettings
    let adapter: WeComAdapter
    let intake: PushIntake
    let logger: Logger
    private struct Live: Sendable {
        var writer: WebSocketOutboundWriter?
        var waiting: [String: CheckedContinuation<JSONAck?, Never>] = [:]
    }
    private let live = NIOLockedValueBox(Live())

    init(settings: WeComConnectionSettings, adapter: WeComAdapter, engine: Engine, ingestor: Ingestor) {
        self.settings = settings
        self.adapter = adapter
        self.intake = PushIntake(engine: engine, ingestor: ingestor, budget: 4)
        self.logger = engine.logger
    }

    /// The supervised service.
    public func service(status: LongConnectionStatus) -> LongConnectionService {
        LongConnectionService(status: status, backoff: settings.backoff, logger: logger) { status in
            await self.session(status: status)
        }
    }

    // MARK: AppSender

    /// The AI bot's send limit is not documented; 20 a minute per chat like the group robot [unconfirmed].
    public var perChatLimit: RateLimit { RateLimit(perMinute: 20) }
    /// Not documented either; a conservative 10 a second for the whole bot [unconfirmed].
    public var perAppLimit: RateLimit { RateLimit(perSecond: 10) }

    public func handles(_ binding: GroupBinding) -> Bool {
        binding.platform == platform && (binding.credentials["robot_key"] ?? "").isEmpty
    }

    /// `aibot_send_msg` with a markdown body; members are @-mentioned inline as `<@userid>`.
    public func send(_ message: OutboundMessage, timeout: Double) async -> DeliveryOutcome {
        var text = message.text
        for mention in message.mentions {
            guard let id = mention.userID, !id.isEmpty else { continue }
            let tag = id == "@all" || id == "all" ? "<@all>" : "<@\(id)>"
            if !text.contains(tag) { text += " " + tag }
        }
        let body = OutJSON.object([
            ("chatid", .string(message.group.chat)),
            ("msgtype", .string("markdown")),
            ("markdown", .object([("content", .string(Self.cut(text, maxBytes: 20_480)))])),
        ])
        guard let ack = await command("aibot_send_msg", body: body, timeout: min(timeout, settings.commandTimeout)) else {
            return .retryLater("WeCom long connection is not connected or did not answer")
        }
        return Self.classify(ack)
    }

    /// 0 delivered; 45009 / 45033 (frequency) rate limited; -1 (busy) retried; anything else is
    /// permanent (e.g. 846605 invalid req_id, 40058 bad parameter, the bot not in the chat).
    static func classify(_ ack: JSONAck) -> DeliveryOutcome {
        let detail = "WeCom errcode \(ack.errcode): \(ack.errmsg)"
        switch ack.errcode {
        case 0: return .delivered
        case 45009, 45033: return .rateLimited(retryAfter: nil, detail)
        case -1: return .retryLater(detail)
        default: return .permanentFailure(detail)
        }
    }

    static func cut(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var out = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > maxBytes - 3 { break }
            used += size
            out.append(character)
        }
        return out + "…"
    }

    // MARK: Commands

    struct JSONAck: Sendable, Equatable {
        var errcode: Int64
        var errmsg: String
    }

    static func requestID(_ cmd: String) -> String {
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        return "\(cmd)_\(millis)_\(String(format: "%08x", UInt32.random(in: 0...UInt32.max)))"
    }

    /// Sends a command on the live socket and waits for the ack with its `req_id`; nil when not
    /// connected, the write failed, or no ack came in time.
    func command(_ cmd: String, body: OutJSON?, timeout: Double) async -> JSONAck? {
        guard let writer = live.withLockedValue({ $0.writer }) else { return nil }
        let id = Self.requestID(cmd)
        var members: [(String, OutJSON)] = [("cmd", .string(cmd)), ("headers", .object([("req_id", .string(id))]))]
        if let body { members.append(("body", body)) }
        let frame = OutJSON.object(members).text
        return await withCheckedContinuation { continuation in
            live.withLockedValue { $0.waiting[id] = continuation }
            Task {
                do {
                    try await writer.write(.text(frame))
                } catch {
                    self.resolve(id, nil)
                }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                self.resolve(id, nil)
            }
        }
    }

    private func resolve(_ id: String, _ ack: JSONAck?) {
        let waiting = live.withLockedValue { $0.waiting.removeValue(forKey: id) }
        waiting?.resume(returning: ack)
    }

    private func attach(_ writer: WebSocketOutboundWriter?) {
        let orphans = live.withLockedValue { live -> [CheckedContinuation<JSONAck?, Never>] in
            live.writer = writer
            guard writer == nil else { return [] }
            defer { live.waiting = [:] }
            return Array(live.waiting.values)
        }
        for continuation in orphans { continuation.resume(returning: nil) }
    }

    // MARK: Session

    func session(status: LongConnectionStatus) async -> SessionEnd {
        await SocketSession.run(url: settings.wsURL, connectTimeout: settings.connectTimeout, tick: settings.tick, logger: logger) { events, writer in
            defer { self.attach(nil) }
            return await self.loop(events: events, writer: writer, status: status)
        }
    }

    private func loop(events: AsyncStream<SocketEvent>, writer: WebSocketOutboundWriter, status: LongConnectionStatus) async -> SessionEnd {
        let clock = ContinuousClock()
        var lastFrame = clock.now
        // Subscribe first; its ack comes through the event loop below like every other frame.
        attach(writer)
        let subscribe = Outcome()
        let pings = Outcome()
        Task {
            subscribe.finish(await self.command("aibot_subscribe", body: .object([("bot_id", .string(self.settings.botID)), ("secret", .string(self.settings.botSecret))]),
                               timeout: self.settings.commandTimeout))
        }
        var subscribed = false
        var nextPing = clock.now + .milliseconds(Int64(settings.keepalive * 1000))
        var missedPings = 0
        var pingOut = false
        for await event in events {
            if !subscribed, let ack = subscribe.result {
                guard let ack else { return .retry("WeCom aibot_subscribe was not answered") }
                guard ack.errcode == 0 else { return .fatal("WeCom aibot_subscribe refused: errcode \(ack.errcode) \(ack.errmsg) (check bot_id / bot_secret)") }
                subscribed = true
                status.set(.connected)
                logger.info("WeCom AI-bot long connection subscribed")
            }
            switch event {
            case .closed(let reason):
                return .retry("WeCom socket closed: \(reason)")
            case .tick:
                if clock.now - lastFrame > .milliseconds(Int64(settings.deadAfter * 1000)) {
                    return .retry("WeCom socket silent for more than \(settings.deadAfter) s")
                }
                if pingOut, let ack = pings.result {
                    missedPings = ack == nil ? missedPings + 1 : 0
                    pingOut = false
                    if missedPings >= 2 { return .retry("WeCom: two pings in a row were not acknowledged") }
                }
                if subscribed, !pingOut, clock.now >= nextPing {
                    nextPing = clock.now + .milliseconds(Int64(settings.keepalive * 1000))
                    pingOut = true
                    pings.reset()
                    Task { pings.finish(await self.command("ping", body: nil, timeout: self.settings.commandTimeout)) }
                }
            case .message(.binary):
                lastFrame = clock.now
                status.frameArrived()
            case .message(.text(let text)):
                lastFrame = clock.now
                status.frameArrived()
                guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    logger.warning("WeCom frame is not a JSON object; skipped")
                    continue
                }
                let requestID = (json["headers"] as? [String: Any])?["req_id"] as? String ?? ""
                let cmd = json["cmd"] as? String
                if cmd == nil, let code = json["errcode"] as? NSNumber {
                    resolve(requestID, JSONAck(errcode: code.int64Value, errmsg: json["errmsg"] as? String ?? ""))
                    continue
                }
                let body = json["body"] as? [String: Any] ?? [:]
                switch cmd {
                case "aibot_msg_callback":
                    guard let data = try? JSONSerialization.data(withJSONObject: body) else { continue }
                    Task { await self.take(data) }
                case "aibot_event_callback":
                    let eventType = (body["event"] as? [String: Any])?["eventtype"] as? String
                    if eventType == "disconnected_event" {
                        return .stop("WeCom disconnected_event: another connection subscribed with this bot_id")
                    }
                default:
                    continue
                }
            }
        }
        return .retry("WeCom socket closed")
    }

    /// The answer of one command, read by the session loop without waiting: nil while it is out,
    /// `.some(nil)` when it ended without an ack.
    final class Outcome: Sendable {
        private let box = NIOLockedValueBox<JSONAck??>(nil)
        var result: JSONAck?? { box.withLockedValue { $0 } }
        func finish(_ ack: JSONAck?) { box.withLockedValue { $0 = .some(ack) } }
        func reset() { box.withLockedValue { $0 = nil } }
    }

    private func take(_ body: Data) async {
        do throws(InboundRejection) {
            guard case .message(let message, _) = try adapter.decodePushedAIBot(body, now: Date()) else { return }
            _ = await intake.take(message)
        } catch {
            logger.warning("WeCom pushed message refused", metadata: ["reason": "\(error.reason)"])
        }
    }
}
