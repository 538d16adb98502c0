import AsyncHTTPClient
import Foundation
import LeaguePlatforms
import NIOCore
import NIOHTTP1

/// Sends outbound requests with AsyncHTTPClient on SwiftNIO (the server's own event loops).
///
/// This is the transport `leagueops serve` uses: it runs on the same SwiftNIO event loops as the
/// server, with a time-out per request (README, Dependencies, says why it replaced URLSession).
public struct AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    /// Answers larger than this are cut off (platforms answer with small JSON).
    private let maxResponse = 1 << 20

    /// - Parameter client: defaults to `outbound`, the process-wide client for platform sends.
    public init(client: HTTPClient = Self.outbound) {
        self.client = client
    }

    /// The process-wide client for platform sends: AsyncHTTPClient's shared settings, but up to 64
    /// kept-alive connections per host instead of 8. Every robot of a platform posts to the same host
    /// (oapi.dingtalk.com, qyapi.weixin.qq.com, open.feishu.cn), and the outbox sends to up to 64
    /// robots at once: with 8 connections a host, the others waited for a connection (and a robot that
    /// hangs until its time-out held one of the 8). Lives as long as the process, so never shut down.
    /// (Its redirects, time-outs and decompression are the shared client's.)
    public static let outbound: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // No tracer is bootstrapped; the default no-op tracer still made a span and its attributes per send.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        var http = HTTPClientRequest(url: request.url)
        http.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await client.execute(http, timeout: .milliseconds(Int64(timeout * 1000)))
        let body = try await response.body.collect(upTo: maxResponse)
        return OutboundResponse(status: Int(response.status.code), body: Data(body.readableBytesView))
    }
}
