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

    /// - Parameter client: defaults to the process-wide shared client.
    public init(client: HTTPClient = .shared) {
        self.client = client
    }

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
