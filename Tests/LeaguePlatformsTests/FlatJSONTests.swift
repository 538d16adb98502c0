import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// The generic webhook's fast JSON path answers only where `JSONDecoder` would answer the same.
@Suite struct FlatJSONTests {
    typealias Payload = GenericAdapter.Payload

    /// What `JSONDecoder` makes of a body (nil: it refuses it).
    static func decoded(_ body: String) -> Payload? { try? JSONDecoder().decode(Payload.self, from: Data(body.utf8)) }

    @Test func readsWhatJSONDecoderReads() throws {
        let bodies = [
            #"{"id":"m1","group":"g","sender":"u","text":"收到","ts":1764547200}"#,
            #" { "ts" : 1764547200.25 , "text" : "/任务 @全部 整理台账", "sender":"u-1", "group":"rc", "id":"x" } "#,
            #"{"id":"m2","group":"g","sender":"u","text":"\u6536\u5230 \"quoted\" \\ \/ \b\f\n\r\t","ts":-0.5e3}"#,
            #"{"id":"m3","group":"g","sender":"u","text":"\ud83d\udc4d emoji by surrogates","ts":1E2,"extra":"ignored","n":12}"#,
            #"{"id":"m4","group":"g","sender":"u","text":"\u0000 nul","ts":0}"#,
            #"{"id":"m5","group":"g","sender":"u","text":"t","ts":1,"ok":true,"no":false,"list":["a","\n"],"empty":[]}"#,
            #"{"id":"","group":"","sender":"","text":"","ts":0.0}"#,
        ]
        for body in bodies {
            let fast = try #require(Payload(flat: Data(body.utf8)), "fast path refused \(body)")
            #expect(fast == Self.decoded(body), "\(body)")
        }
    }

    @Test func leavesEverythingElseToJSONDecoder() {
        let bodies = [
            #"{"id":1,"group":"g","sender":"u","text":"t","ts":1}"#,  // a number where a string is due
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":"1"}"#,  // a string where a number is due
            #"{"id":"m","group":"g","sender":"u","text":"t"}"#,  // a field missing
            #"{"id":"m","id":"n","group":"g","sender":"u","text":"t","ts":1}"#,  // a key twice
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":1,"meta":{"a":1}}"#,  // a nested value
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":1,"ok":null}"#,  // null
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":1e400}"#,  // not finite
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":01}"#,  // not JSON's number grammar
            #"{"id":"m","group":"g","sender":"u","text":"\ud800","ts":1}"#,  // a lone surrogate
            #"{"id":"m","group":"g","sender":"u","text":"\x","ts":1}"#,  // an unknown escape
            "{\"id\":\"m\",\"group\":\"g\",\"sender\":\"u\",\"text\":\"a\nb\",\"ts\":1}",  // a raw control character
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":1} trailing"#,
            #"{"id":"m","group":"g","sender":"u","text":"t","ts":1,}"#,
            #"["id"]"#, "", "{",
        ]
        for body in bodies {
            #expect(Payload(flat: Data(body.utf8)) == nil, "\(body)")
        }
        // Invalid UTF-8 inside a string.
        var bytes = Array(#"{"id":"m","group":"g","sender":"u","text":"#.utf8)
        bytes += [0x22, 0xFF, 0xFE, 0x22] + Array(#","ts":1}"#.utf8)
        #expect(Payload(flat: Data(bytes)) == nil)
    }

    /// Random bodies built from JSON's pieces: wherever the fast path answers, `JSONDecoder` answers the same.
    @Test func agreesWithJSONDecoderOnRandomBodies() {
        var random = SplitMix(seed: 0x1EA6_0E05)
        let pieces = [
            "\"", "\\", "\\u", "\\ud83d", "\\udc4d", "\\n", "\\\"", "a", "收", " ", "{", "}", ",", ":", "1", "-", ".", "e", "0", "9", "\u{1}",
        ]
        let strings = ["abc", "收到", "\\u6536\\u5230", "\\ud83d\\udc4d", "a\\nb", "\\\"q\\\"", ""]
        let numbers = ["1", "-0.5", "1e3", "12.25E-2", "0", "1764547200"]
        let keys = ["id", "group", "sender", "text", "ts", "other"]
        var answered = 0
        for _ in 0..<3000 {
            var fields: [String] = []
            for key in keys.shuffled(using: &random) where Int.random(in: 0..<12, using: &random) > 0 {
                var value = ""
                if Int.random(in: 0..<4, using: &random) > 0 {
                    value = (key == "ts" ? numbers : strings).randomElement(using: &random)!
                } else {
                    for _ in 0..<Int.random(in: 1..<5, using: &random) { value += pieces.randomElement(using: &random)! }
                }
                fields.append("\"\(key)\":" + (key == "ts" ? value : "\"\(value)\""))
            }
            let body = "{" + fields.joined(separator: ",") + "}"
            guard let fast = Payload(flat: Data(body.utf8)) else { continue }
            answered += 1
            #expect(fast == Self.decoded(body), "\(body)")
        }
        #expect(answered > 50)
    }
}
