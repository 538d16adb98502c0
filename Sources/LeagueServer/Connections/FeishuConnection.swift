import Foundation
import HummingbirdWSClient
import LeagueCore
import LeaguePlatforms
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The Feishu long connection (`platforms.feishu.mode: long_connection`) as a `StreamDriver`:
/// bootstrap `POST {base_url}/callback/ws/endpoint` with app_id / app_secret, binary pbbp2 frames,
/// a protobuf ping every `keepalive` (or Feishu's `PingInterval` when shorter), fragments joined as bytes, and for every pushed
/// `im.message.receive_v1`: commit through the `Ingestor` (`PushIngest`), then answer on the socket
/// it came from with the frame echoed and `{"code":200}`. A push that is not committed within the
/// ACK budget (Feishu re-pushes after 3 s) is not answered, so Feishu pushes it again; a re-push of a
/// committed message is a duplicate, answered and not processed twice.
public struct FeishuDriver: StreamDriver {
    public let name = "feishu"
    public let policy: ConnectionPolicy
    public var usesWebSocketPing: Bool { false }
    let appID: String
    let appSecret: String
    let baseURL: String
    let adapter: FeishuAdapter
    let transport: any HTTPTransport
    let push: PushIngest
    let logger: Logger
    /// Longest a push waits for its commit before it is left unanswered (Feishu's budget is 3 s).
    var ackBudget: Double = 2.5
    private let state = NIOLockedValueBox(State())

    struct State: Sendable {
        var endpoint: FeishuBootstrap.Endpoint?
        /// Per socket: fragments waiting for the rest of their message.
        var fragments: [Int: FeishuReassembler] = [:]
        var pingInterval: Double?
    }

    /// The ping interval the platform last announced (bootstrap or pong).
    public var announcedPingInterval: Double? { state.withLockedValue { $0.pingInterval } }

    /// The configured `keepalive`, or Feishu's announced `PingInterval` when that is shorter: the bot
    /// never pings less often than the platform asks (a longer announced interval is not followed,
    /// so `dead_after` keeps holding).
    public var keepaliveInterval: Double {
        guard let announced = announcedPingInterval, announced > 0 else { return policy.keepalive }
        return min(policy.keepalive, max(announced, 1))
    }

    public func bootstrap() async throws -> String {
        let request = FeishuBootstrap.request(baseURL: baseURL, appID: appID, appSecret: appSecret)
        let response: OutboundResponse
        do {
            response = try await transport.send(request, timeout: policy.bootstrapTimeout)
        } catch {
            throw ConnectionFailure.retry("Feishu bootstrap failed: \(error)")
        }
        let plainAllowed = URLComponents(string: baseURL)?.host.map(ConnectionSettings.isLoopback) ?? false
        switch FeishuBootstrap.parse(response, allowPlainWS: plainAllowed) {
        case .retry(let reason):
            throw response.status == 429 ? ConnectionFailure.rateLimited(reason) : ConnectionFailure.retry(reason)
        case .fatal(let reason):
            throw ConnectionFailure.fatal(reason)
        case .connect(let endpoint):
            state.withLockedValue {
                $0.endpoint = endpoint
                $0.pingInterval = endpoint.config.pingInterval
            }
            logger.info("Feishu long connection: bootstrap done", metadata: ["device_id": "\(endpoint.deviceID)"])
            return endpoint.url
        }
    }

    public func opened(_ socket: StreamSocket) async throws {
        // The newer SDK pings once right away; so do we (the pong proves the socket works).
        try await keepalive(socket)
    }

    public func lane(of message: WebSocketMessage) -> FrameLane {
        guard case .binary(let buffer) = message, let frame = try? FeishuFrame(decoding: buffer.readableBytesView) else { return .inline }
        return frame.method == FeishuFrame.methodData ? .serial : .inline
    }

    public func keepalive(_ socket: StreamSocket) async throws {
        guard let serviceID = state.withLockedValue({ $0.endpoint?.serviceID }) else { return }
        try await socket.send(binary: Array(FeishuFrame.ping(serviceID: serviceID).encoded()))
    }

    public func receive(_ message: WebSocketMessage, on socket: StreamSocket) async -> FrameOutcome {
        guard case .binary(let buffer) = message else { return .handled }  // only binary messages are frames
        let frame: FeishuFrame
        do {
            frame = try FeishuFrame(decoding: buffer.readableBytesView)
        } catch {
            logger.warning("Feishu frame could not be decoded; skipped", metadata: ["error": "\(error)"])
            return .handled
        }
        if frame.method == FeishuFrame.methodControl {
            if frame.type == "pong", let payload = frame.payload, let config = FeishuClientConfig(json: payload) {
                let changed = state.withLockedValue { state -> Bool in
                    defer { state.pingInterval = config.pingInterval }
                    return state.pingInterval != config.pingInterval
                }
                if changed {
                    logger.notice(
                        "Feishu announced a new PingInterval",
                        metadata: ["ping_interval_s": "\(config.pingInterval)", "keepalive_s": "\(keepaliveInterval)"])
                }
            }
            return .handled
        }
        guard frame.type == "event" else { return .handled }  // `card` callbacks are not used
        if let encoding = frame.payloadEncoding, !encoding.isEmpty {
            logger.warning("Feishu frame with a payload_encoding the bot does not know; not answered", metadata: ["encoding": "\(encoding)"])
            return .handled
        }
        let complete: FeishuReassembler.Complete?
        do {
            complete = try state.withLockedValue { state in
                var reassembler = state.fragments[socket.id] ?? FeishuReassembler()
                defer { state.fragments[socket.id] = reassembler }
                return try reassembler.add(frame, now: Date())
            }
        } catch {
            logger.warning("Feishu fragment refused", metadata: ["error": "\(error)"])
            return .handled
        }
        guard let complete else { return .handled }
        await answer(complete, on: socket)
        return .handled
    }

    /// Commits one whole event and answers it, or leaves it unanswered when it was not committed.
    func answer(_ pushed: FeishuReassembler.Complete, on socket: StreamSocket) async {
        let started = ContinuousClock.now
        let verdict = await push.commit(platform: name, within: ackBudget) { () throws(InboundRejection) in
            try adapter.decodePushedEvent(pushed.payload, now: Date())
        }
        guard verdict.mayAck else {
            logger.warning("Feishu push not acknowledged; Feishu pushes it again", metadata: ["verdict": "\(verdict)"])
            return
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
        do {
            try await socket.send(binary: Array(pushed.frame.response(code: 200, handlerMilliseconds: milliseconds).encoded()))
        } catch {
            logger.warning("Feishu ACK could not be written; the re-push will be a duplicate", metadata: ["error": "\(error)"])
        }
    }
}
