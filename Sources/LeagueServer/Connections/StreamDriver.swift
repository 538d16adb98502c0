import Foundation
import HummingbirdWSClient
import LeagueCore
import NIOCore

// Connections: inbound over a WebSocket the bot opens (DingTalk Stream, Feishu and WeCom long
// connections). The file layout, for whoever adds a platform:
//
// - LeagueCore/Connections/ConnectionMachine.swift — pure: `ConnectionPolicy` (keepalive, silence
//   deadline, backoff with jitter capped at 60 s), `ConnectionMachine` (state + events → actions),
//   `ConnectionFailure` (retry / rateLimited / fatal). Tested without sockets or clocks.
// - LeagueCore/Connections/ConnectionLease.swift — the lease with a fencing token (`LeaseStore`).
// - LeaguePlatforms/Connections/ConnectionSettings.swift — `mode`, `keepalive`, `dead_after` and the
//   loopback-only rule for `ws://` / `http://` URLs, per platform.
// - Here, in LeagueServer/Connections: StreamDriver.swift (this file), what a platform implements
//   (bootstrap, frame handling, keepalive; `StreamSocket` writes back on the socket a frame came from);
//   ConnectionSupervisor.swift, the `Service` that owns one connection (lease, bootstrap with time-outs,
//   silence deadline, backoff, rotation opening the new socket before closing the old, fatal stop),
//   feeding ConnectionRegistry.swift (state per connection for /healthz); PushIngest.swift, the inbound
//   contract (a push goes through the same `Ingestor` as a webhook; ACK only once committed); the drivers
//   DingTalk/DingTalkStreamDriver.swift, FeishuConnection.swift and WeComConnection.swift.
//
// A platform adds a `StreamDriver` and builds it in `ConnectionFactory.drivers`.

/// One open WebSocket as a driver sees it. ACKs and replies go back on the socket the frame came from
/// (never on "the current" one: after a rotation both may be open).
public struct StreamSocket: Sendable {
    /// Sequence number of this socket within its supervisor (1, 2, …), for logs and tests.
    public let id: Int
    let writer: WebSocketOutboundWriter

    /// Sends one text frame.
    /// - Throws: when the socket is closed.
    public func send(text: String) async throws {
        try await writer.write(.text(text))
    }

    /// Sends one binary frame.
    /// - Throws: when the socket is closed.
    public func send(binary: [UInt8]) async throws {
        try await writer.write(.binary(ByteBuffer(bytes: binary)))
    }
}

/// Where a frame is handled: control frames at once in the reader (a ping never waits behind a
/// store commit), pushes one after another in a worker, in arrival order.
public enum FrameLane: Sendable {
    case inline
    case serial
}

/// What handling a frame asks the supervisor to do.
public enum FrameOutcome: Sendable, Equatable {
    case handled
    /// The platform will close this socket soon: open a new one, then close this one.
    case rotate(reason: String)
    /// Close this socket and reconnect with a fresh bootstrap.
    case reconnect(reason: String)
    /// Stop this connection for good (evicted by another holder, credentials revoked).
    case stop(ConnectionFailure)
}

/// A platform's side of a connection the bot opens. The supervisor does everything else.
public protocol StreamDriver: Sendable {
    /// The platform name (`dingtalk`), also the connection's name in /healthz.
    var name: String { get }
    var policy: ConnectionPolicy { get }
    /// True to let the WebSocket library send WS pings every `policy.keepalive` (and close the socket
    /// when no pong comes back); false when the platform wants application-level keepalives instead.
    var usesWebSocketPing: Bool { get }
    /// Runs the bootstrap (every HTTP call with `policy.bootstrapTimeout`) and returns the WebSocket URL
    /// to open, with a fresh ticket.
    /// - Throws: `ConnectionFailure` (other errors count as `.retry`).
    func bootstrap() async throws -> String
    /// Called once the socket is open, before any frame is read (WeCom: the subscribe frame).
    func opened(_ socket: StreamSocket) async throws
    /// The lane of a frame.
    func lane(of message: WebSocketMessage) -> FrameLane
    /// Handles one frame; ACKs go to `socket`.
    func receive(_ message: WebSocketMessage, on socket: StreamSocket) async -> FrameOutcome
    /// The application keepalive, sent every `keepaliveInterval` seconds (default: none).
    func keepalive(_ socket: StreamSocket) async throws
    /// Seconds between application keepalives, read before each one (default: `policy.keepalive`);
    /// a platform that announces its own interval may shorten it.
    var keepaliveInterval: Double { get }
}

extension StreamDriver {
    public var usesWebSocketPing: Bool { true }
    public func opened(_ socket: StreamSocket) async throws {}
    public func keepalive(_ socket: StreamSocket) async throws {}
    public var keepaliveInterval: Double { policy.keepalive }
}
