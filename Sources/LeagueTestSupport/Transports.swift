import Foundation
import LeaguePlatforms
import LeagueTransport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The in-process fake platform of the generic adapter: records every message it is sent instead of
/// sending it (the engine-mode and most live-mode tests). It can be told to fail in scripted ways
/// (connection refused, an HTTP status, a time-out) before it answers 200. Fires `received` on every attempt.
public final class FakeTransport: HTTPTransport, @unchecked Sendable {
    public enum Failure: Sendable { case refused, status(Int), timeout }

    public struct Sent: Sendable {
        public var request: OutboundRequest
        public var group: String
        public var text: String
        public var mentions: [String]
        public var key: String
    }

    /// Fired on every attempt.
    public let received = Signal()
    private let lock = NSLock()
    private var sent: [Sent] = []
    private var script: [Failure] = []
    private var attempts = 0
    private var failForever = false

    public init() {}

    /// The messages delivered (answered 200), in order.
    public var requests: [Sent] { lock.withLock { sent } }
    /// The idempotency keys of the messages delivered, in order.
    public var keys: [String] { requests.map(\.key) }
    public var attemptCount: Int { lock.withLock { attempts } }
    public func to(_ chat: String) -> [Sent] { requests.filter { $0.group == chat } }

    /// Failures to give, in order, before answering 200 again (e.g. 500, 500, 429).
    public func fail(_ failures: [Failure]) { lock.withLock { script = failures } }
    /// While on, every attempt is answered 500.
    public func failAlways(_ on: Bool) { lock.withLock { failForever = on } }

    public func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        defer { received.fire() }
        let failure: Failure? = lock.withLock {
            attempts += 1
            if failForever { return .status(500) }
            return script.isEmpty ? nil : script.removeFirst()
        }
        switch failure {
        case .refused: throw URLError(.cannotConnectToHost)
        case .timeout: throw URLError(.timedOut)
        case .status(let status): return OutboundResponse(status: status, body: Data())
        case nil:
            struct Body: Decodable { var group: String; var text: String; var mentions: [String]; var key: String }
            let body = try JSONDecoder().decode(Body.self, from: request.body)
            lock.withLock { sent.append(Sent(request: request, group: body.group, text: body.text, mentions: body.mentions, key: body.key)) }
            return OutboundResponse(status: 200, body: Data())
        }
    }
}

/// Sends to the fake gateways over real HTTP (AsyncHTTPClient), everything else to `fallback`.
public struct GatewayRoutingTransport: HTTPTransport {
    public let gatewayPrefix: String
    public let fallback: any HTTPTransport
    public init(gatewayPrefix: String, fallback: any HTTPTransport) {
        self.gatewayPrefix = gatewayPrefix
        self.fallback = fallback
    }
    public func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        if request.url.hasPrefix(gatewayPrefix) { return try await AsyncHTTPClientTransport().send(request, timeout: timeout) }
        return try await fallback.send(request, timeout: timeout)
    }
}
