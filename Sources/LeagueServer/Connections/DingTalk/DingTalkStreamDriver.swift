import Foundation
import HummingbirdWSClient
import LeagueCore
import LeaguePlatforms
import Logging

/// DingTalk Stream mode (docs/platforms.md): bootstrap `POST /v1.0/gateway/connections/open` for a
/// single-use ticket, then JSON frames on `wss://…/connect?ticket=…`.
///
/// - SYSTEM `ping`: answered at once with its `data` (the `opaque`) echoed.
/// - SYSTEM `disconnect`: ACKed, then the supervisor opens a new connection and closes this one once
///   the new one is up (pushes still arriving here are handled and ACKed here).
/// - CALLBACK on `/v1.0/im/bot/messages/get`: decoded like the HTTP callback, committed through
///   `PushIngest`, and ACKed on this socket only after the commit. A redelivery (same `msgId`) is a
///   duplicate: ACKed again, processed once. A push that cannot be committed is not ACKed.
/// - EVENT: ACKed `SUCCESS` (the bot subscribes to none it acts on).
public struct DingTalkStreamDriver: StreamDriver {
    public let name = "dingtalk"
    let adapter: DingTalkAdapter
    let app: DingTalkApp
    public let policy: ConnectionPolicy
    let transport: any HTTPTransport
    let push: PushIngest
    let clock: any WallClock
    let logger: Logger

    public var leaseName: String { "dingtalk:\(app.clientID)" }

    public func bootstrap() async throws -> String {
        let request = DingTalkStream.bootstrapRequest(apiBaseURL: app.apiBaseURL, clientID: app.clientID, clientSecret: app.clientSecret)
        let response: OutboundResponse
        do {
            response = try await transport.send(request, timeout: policy.bootstrapTimeout)
        } catch {
            throw ConnectionFailure.retry("DingTalk gateway bootstrap failed: \(error)")
        }
        return try DingTalkStream.connectURL(from: response)
    }

    public func lane(of message: WebSocketMessage) -> FrameLane {
        guard case .text(let text) = message, let frame = DingTalkStream.Frame.parse(text) else { return .inline }
        return frame.type == "SYSTEM" ? .inline : .serial
    }

    public func receive(_ message: WebSocketMessage, on socket: StreamSocket) async -> FrameOutcome {
        guard case .text(let text) = message, let frame = DingTalkStream.Frame.parse(text) else {
            logger.notice("DingTalk Stream frame not understood; ignored")
            return .handled
        }
        do {
            switch frame.type {
            case "SYSTEM":
                switch frame.topic {
                case "ping":
                    try await socket.send(text: DingTalkStream.ack(messageID: frame.messageID, data: frame.data))
                    return .handled
                case "disconnect":
                    // The SDKs ACK it (else the server repeats it), then reconnect with a new ticket.
                    try? await socket.send(text: DingTalkStream.ack(messageID: frame.messageID, data: frame.data))
                    return .rotate(reason: DingTalkStream.disconnectReason(frame))
                default:
                    return .handled
                }
            case "CALLBACK":
                let verdict =
                    frame.topic == DingTalkStream.botMessageTopic
                    ? await push.commit(platform: name) { () throws(InboundRejection) in try adapter.decodeStreamMessage(frame.data, now: clock.now()) }
                    : .ignored("topic \(frame.topic) not handled")
                guard verdict.mayAck else { return .handled }
                try await socket.send(text: DingTalkStream.ack(messageID: frame.messageID))
                return .handled
            case "EVENT":
                try await socket.send(text: DingTalkStream.eventAck(messageID: frame.messageID))
                return .handled
            default:
                return .handled
            }
        } catch {
            return .reconnect(reason: "writing on the DingTalk socket failed: \(error)")
        }
    }
}
