import Foundation
import LeagueCore
import Testing
@testable import LeaguePlatforms

/// Seeded random input for the generic decoder: correctly signed bodies of random bytes, mutated
/// valid messages, deep nesting, huge fields, invalid UTF-8 and repeated headers. Every input must
/// end in a clear rejection or a well-formed message — never a crash.
struct FuzzGenericDecoderTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

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

    @Test func randomAndMutatedBodiesNeverCrash() {
        var random = SplitMix(state: 2026)
        let valid = Array(#"{"id":"m-1","group":"chat-g1","sender":"u-g1","text":"收到","ts":1800000000}"#.utf8)
        for round in 0..<3_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                    }
                    if bytes.isEmpty { bytes = valid }
                }
            }
            switch decode(Data(bytes)) {
            case .failure(let rejection): #expect((400..<500).contains(rejection.status), "\(rejection.reason)")
            case .success(.message(let message, _)):
                #expect(!message.messageID.isEmpty && message.messageID.utf8.count <= 256 && !message.chat.isEmpty && !message.sender.isEmpty)
            case .success: break
            }
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
