import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// Hostile shapes for the generic decoder: deep nesting, huge fields, invalid UTF-8 and repeated
/// headers must end in a clear rejection. (Its seeded random-input run is the `generic` fuzz
/// target, in LeagueFuzzingTests.)
struct FuzzGenericDecoderTests {
    let adapter = GenericAdapter(secret: "fuzz-secret", outboundURL: "http://127.0.0.1:9/messages")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func decode(_ body: Data, headers extra: [String: [String]] = [:]) -> Result<InboundOutcome, InboundRejection> {
        var headers = ["x-leagueops-signature": [GenericAdapter.signature(body: body, secret: "fuzz-secret")]]
        headers.merge(extra) { $1 }
        let request = InboundRequest(method: "POST", headers: headers, body: body)
        do throws(InboundRejection) {
            return .success(try adapter.decode(request, path: "generic", now: now))
        } catch {
            return .failure(error)
        }
    }

    @Test func hostileShapesAreRefusedClearly() throws {
        let deep = Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        let invalidUTF8 = Data([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D])
        let overflow = Data(#"{"id":"1","group":"chat-g1","sender":"u-g1","text":"x","ts":1e400}"#.utf8)
        let negative = Data(#"{"id":"-99999999999999999999999","group":"chat-g1","sender":"u-g1","text":"x","ts":-1}"#.utf8)
        let longID = Data(#"{"id":"\#(String(repeating: "9", count: 300))","group":"chat-g1","sender":"u-g1","text":"x","ts":1800000000}"#.utf8)
        for body in [deep, invalidUTF8, overflow, negative, longID] {
            guard case .failure(let rejection) = decode(body) else {
                Issue.record("accepted a hostile body: \(String(decoding: body.prefix(80), as: UTF8.self))")
                continue
            }
            #expect((400..<500).contains(rejection.status) && !rejection.reason.isEmpty)
        }
        // A repeated signature header is refused, not resolved by picking one.
        let valid = Data(#"{"id":"m-1","group":"chat-g1","sender":"u-g1","text":"收到","ts":1800000000}"#.utf8)
        let signature = GenericAdapter.signature(body: valid, secret: "fuzz-secret")
        guard case .failure = decode(valid, headers: ["x-leagueops-signature": [signature, "sha256=00"]]) else {
            Issue.record("a repeated signature header was accepted")
            return
        }
    }
}
