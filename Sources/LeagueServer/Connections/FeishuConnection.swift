import Foundation
import HummingbirdWSClient
import LeagueCore
import LeaguePlatforms
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Settings of the Feishu long connection (`platforms.feishu` with `mode: long_connection`).
public struct FeishuConnectionSettings: Sendable {
    public var appID: String
    public var appSecret: String
    public var baseURL: String
    /// Client ping period; nil follows the platform's `PingInterval` (120 s, updated by pongs).
    public var keepalive: Double?
    /// No frame of any kind for this long means the socket is dead; nil = ping interval + 30 s.
    public var deadAfter: Double?
    /// Time-out of the bootstrap call and of the WebSocket upgrade.
    public var bootstrapTimeout: Double = 10
    /// A push is acknowledged only once committed, and Feishu re-pushes after 3 s: commit budget.
    public var ackBudget: Double = 2.5
    /// How often the session looks at its clocks (keepalive, silence).
    public var tick: Double = 1
    public var backoff = Backoff()

    public init(appID: String, appSecret: String, baseURL: String) {
        self.appID = appID
        self.appSecret = appSecret
        self.baseURL = baseURL
    }

    /// `ws://` and `http://` only for loopback hosts (tests); production is `https` / `wss`.
    var allowPlain: Bool { SettingsCheck.isLoopback(baseURL) }
}

/// The Feishu long connection: bootstrap, binary pbbp2 frames, client pings, fragment reassembly,
/// and for every pushed `im.message.receive_v1`: commit through the `Ingestor`, then ACK (the frame
/// echoed with `{"code":200}`) on the socket it came from. A push that cannot be committed is not
/// answered, so Feishu pushes it again; a redelivery of a committed message is a duplicate,
/// answered and not processed twice.
public struct FeishuConnection: Sendable {
    let settings: FeishuConnectionSettings
    let adapter: FeishuAdapter
    let transport: any HTTPTransport
    let intake: PushIntake
    let logger: Logger

    init(settings: FeishuConnectionSettings, adapter: FeishuAdapter, transport: any HTTPTransport, engine: Engine, ingestor: Ingestor) {
        self.settings = settings
        self.adapter = adapter
        self.transport = transport
        self.intake = PushIntake(engine: engine, ingestor: ingestor, budget: settings.ackBudget)
        self.logger = engine.logger
    }

    /// The supervised service.
    public func service(status: LongConnectionStatus) -> LongConnectionService {
        LongConnectionService(status: status, backoff: settings.backoff, logger: logger) { status in
            await self.session(status: status)
        }
    }

    /// One bootstrap and one socket, until it ends.
    func session(status: LongConnectionStatus) async -> SessionEnd {
        let request = FeishuBootstrap.request(baseURL: settings.baseURL, appID: settings.appID, appSecret: settings.appSecret)
        let response: OutboundResponse
        do {
            response = try await transport.send(request, timeout: settings.bootstrapTimeout)
        } catch {
            return .retry("Feishu bootstrap failed: \(error)")
        }
        let endpoint: FeishuBootstrap.Endpoint
        switch FeishuBootstrap.parse(response, allowPlainWS: settings.allowPlain) {
        case .retry(let reason): return .retry(reason)
        case .fatal(let reason): return .fatal(reason)
        case .connect(let value): endpoint = value
        }
        logger.info("Feishu long connection: connecting", metadata: ["device_id": "\(endpoint.deviceID)"])
        return await SocketSession.run(url: endpoint.url, connectTimeout: settings.bootstrapTimeout, tick: settings.tick, logger: logger) { events, writer in
            await self.loop(events: events, writer: writer, endpoint: endpoint, status: status)
        }
    }

    private func loop(events: AsyncStream<SocketEvent>, writer: WebSocketOutboundWriter, endpoint: FeishuBootstrap.Endpoint, status: LongConnectionStatus) async -> SessionEnd {
        status.set(.connected)
        let clock = ContinuousClock()
        var pingInterval = settings.keepalive ?? endpoint.config.pingInterval
        var lastFrame = clock.now
        var nextPing = clock.now
        var reassembler = FeishuReassembler()
        for await event in events {
            switch event {
            case .closed(let reason):
                return .retry("Feishu socket closed: \(reason)")
            case .tick:
                let deadline = settings.deadAfter ?? pingInterval + 30
                if clock.now - lastFrame > .milliseconds(Int64(deadline * 1000)) {
                    return .retry("Feishu socket silent for more than \(deadline) s")
                }
                if clock.now >= nextPing {
                    nextPing = clock.now + .milliseconds(Int64(pingInterval * 1000))
                    do {
                        try await writer.write(.binary(ByteBuffer(bytes: FeishuFrame.ping(serviceID: endpoint.serviceID).encoded())))
                    } catch {
                        return .retry("Feishu ping could not be written: \(error)")
                    }
                }
                reassembler.expire(now: Date())
            case .message(.text):
                continue  // only binary messages are frames
            case .message(.binary(let buffer)):
                lastFrame = clock.now
                status.frameArrived()
                let frame: FeishuFrame
                do {
                    frame = try FeishuFrame(decoding: buffer.readableBytesView)
                } catch {
                    logger.warning("Feishu frame could not be decoded; skipped", metadata: ["error": "\(error)"])
                    continue
                }
                if frame.method == FeishuFrame.methodControl {
                    if frame.type == "pong", let payload = frame.payload, let config = FeishuClientConfig(json: payload), settings.keepalive == nil,
                       config.pingInterval != pingInterval {
                        pingInterval = config.pingInterval
                        nextPing = clock.now + .milliseconds(Int64(pingInterval * 1000))
                        logger.info("Feishu ping interval changed by the platform", metadata: ["ping_interval_s": "\(pingInterval)"])
                    }
                    continue
                }
                guard frame.type == "event" else { continue }  // `card` callbacks are not used
                if let encoding = frame.payloadEncoding, !encoding.isEmpty {
                    logger.warning("Feishu frame with an unknown payload_encoding; not answered", metadata: ["encoding": "\(encoding)"])
                    continue
                }
                let complete: FeishuReassembler.Complete?
                do {
                    complete = try reassembler.add(frame, now: Date())
                } catch {
                    logger.warning("Feishu fragment refused", metadata: ["error": "\(error)"])
                    continue
                }
                guard let complete else { continue }
                // Commit and answer off the read loop, so a slow commit never delays pings or other pushes.
                Task { await self.handle(complete, writer: writer) }
            }
        }
        return .retry("Feishu socket closed")
    }

    private func handle(_ push: FeishuReassembler.Complete, writer: WebSocketOutboundWriter) async {
        let started = ContinuousClock.now
        let code: Int
        do throws(InboundRejection) {
            switch try adapter.decodePushedEvent(push.payload, now: Date()) {
            case .message(let message, _):
                switch await intake.take(message) {
                case .acknowledge: code = 200
                case .withhold: return  // not answered: Feishu pushes it again
                }
            case .ignore, .respond:
                code = 200
            }
        } catch {
            // A malformed event would come back forever: answer it and say so in the log.
            logger.warning("Feishu pushed event refused; acknowledged so it is not re-pushed", metadata: ["reason": "\(error.reason)"])
            code = 200
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let response = push.frame.response(code: code, handlerMilliseconds: milliseconds)
        do {
            try await writer.write(.binary(ByteBuffer(bytes: response.encoded())))
        } catch {
            logger.warning("Feishu ACK could not be written; the push will come again and be a duplicate", metadata: ["error": "\(error)"])
        }
    }
}

/// Small checks shared by the connection settings.
enum SettingsCheck {
    /// True when the URL's host is a loopback address (`ws://` / `http://` are accepted only there).
    static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host else { return false }
        return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]"
    }
}
