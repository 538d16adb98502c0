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

    /// How a correctly signed POST of `body` is refused (nil: it was accepted).
    func refusal(_ body: Data, headers extra: [String: [String]] = [:]) -> InboundRejection? {
        var headers = ["x-leagueops-signature": [GenericAdapter.signature(body: body, secret: "fuzz-secret")]]
        headers.merge(extra) { $1 }
        return adapter.refusal(InboundRequest(method: "POST", headers: headers, body: body), now: now)
    }

    @Test func hostileShapesAreRefusedClearly() throws {
        let deep = Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        let invalidUTF8 = Data([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D])
        let overflow = Data(#"{"id":"1","group":"chat-g1","sender":"u-g1","text":"x","ts":1e400}"#.utf8)
        let negative = Data(#"{"id":"-99999999999999999999999","group":"chat-g1","sender":"u-g1","text":"x","ts":-1}"#.utf8)
        let longID = Data(#"{"id":"\#(String(repeating: "9", count: 300))","group":"chat-g1","sender":"u-g1","text":"x","ts":1800000000}"#.utf8)
        for body in [deep, invalidUTF8, overflow, negative, longID] {
            let rejection = try #require(refusal(body), "accepted a hostile body: \(String(decoding: body.prefix(80), as: UTF8.self))")
            #expect((400..<500).contains(rejection.status) && !rejection.reason.isEmpty)
        }
        // A repeated signature header is refused, not resolved by picking one.
        let valid = Data(#"{"id":"m-1","group":"chat-g1","sender":"u-g1","text":"收到","ts":1800000000}"#.utf8)
        let signature = GenericAdapter.signature(body: valid, secret: "fuzz-secret")
        #expect(refusal(valid, headers: ["x-leagueops-signature": [signature, "sha256=00"]]) != nil, "a repeated signature header was accepted")
    }
}
