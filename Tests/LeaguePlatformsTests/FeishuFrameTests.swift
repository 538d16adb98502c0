import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// The pbbp2.Frame codec against the byte-exact vectors of STREAMS.md (Vectors/feishu-frames.json).
@Suite("Feishu long-connection frames")
struct FeishuFrameTests {
    let frames: [String: Data]

    init() throws {
        let vector = try Vector.load("feishu-frames.json")
        var frames: [String: Data] = [:]
        for (name, hex) in (vector["frames"].value as? [String: String]) ?? [:] {
            frames[String(name.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces)] = Data(try hexBytes(hex))
        }
        self.frames = frames
        #expect(frames.count == 6)
    }

    func frame(_ name: String) throws -> Data { try #require(frames[name], "vector \(name) missing") }

    @Test("the client ping encodes byte for byte, required zero fields included")
    func pingBytes() throws {
        #expect(FeishuFrame.ping(serviceID: 33_554_678).encoded() == (try frame("client ping")))
    }

    @Test("the server pong decodes to a control frame carrying the new ClientConfig")
    func pongDecodes() throws {
        let pong = try FeishuFrame(decoding: try frame("server pong"))
        #expect(pong.method == FeishuFrame.methodControl)
        #expect(pong.type == "pong")
        #expect(pong.service == 33_554_678)
        let pongPayload = try #require(pong.payload)
        let config = try #require(FeishuClientConfig(json: pongPayload))
        #expect(config == FeishuClientConfig(reconnectCount: -1, reconnectInterval: 120, reconnectNonce: 30, pingInterval: 120))
        #expect(pong.encoded() == (try frame("server pong")))
    }

    @Test("an event frame decodes, its LogID above 2^53 intact, and the response is the vector byte for byte")
    func eventAndResponse() throws {
        let event = try FeishuFrame(decoding: try frame("event"))
        #expect(event.seqID == 5)
        #expect(event.logID == 7_318_123_456_789_012_345)
        #expect(event.logID > 1 << 53)
        #expect(event.method == FeishuFrame.methodData)
        #expect(event.headers.map(\.key) == ["type", "message_id", "sum", "seq", "trace_id"])
        let payload = try #require(event.payload)
        #expect(payload.count == 156)
        #expect(String(decoding: payload, as: UTF8.self).contains("团课"))
        #expect(event.encoded() == (try frame("event")))
        let response = event.response(code: 200, handlerMilliseconds: 3)
        #expect(response.encoded() == (try frame("response")))
        #expect(try FeishuFrame(decoding: response.encoded()).logID == 7_318_123_456_789_012_345)
    }

    @Test("fragments out of order and split inside a UTF-8 character join as bytes to the whole payload")
    func fragments() throws {
        let second = try FeishuFrame(decoding: try frame("seq=1, SeqID 7, LogID 1"))
        let first = try FeishuFrame(decoding: try frame("seq=0, SeqID 6, LogID 1"))
        let firstPayload = try #require(first.payload), secondPayload = try #require(second.payload)
        #expect(String(validating: Array(firstPayload), as: UTF8.self) == nil)
        #expect(String(validating: Array(secondPayload), as: UTF8.self) == nil)
        var reassembler = FeishuReassembler()
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(try reassembler.add(second, now: now) == nil)
        #expect(reassembler.pending == 1)
        let whole = try #require(try reassembler.add(first, now: now.addingTimeInterval(1)))
        #expect(reassembler.pending == 0)
        #expect(whole.frame.seqID == 6)
        let unsplit = try #require(try FeishuFrame(decoding: try frame("event")).payload)
        #expect(whole.payload == unsplit)
        #expect(String(validating: Array(whole.payload), as: UTF8.self)?.contains("团课") == true)
    }

    @Test("an incomplete fragment set expires after the TTL and a late fragment does not complete it")
    func fragmentsExpire() throws {
        let second = try FeishuFrame(decoding: try frame("seq=1, SeqID 7, LogID 1"))
        let first = try FeishuFrame(decoding: try frame("seq=0, SeqID 6, LogID 1"))
        var reassembler = FeishuReassembler(ttl: 5)
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(try reassembler.add(second, now: now) == nil)
        #expect(try reassembler.add(first, now: now.addingTimeInterval(6)) == nil)
        #expect(reassembler.pending == 1)
    }

    @Test("bad fragment headers and malformed bytes are refused, not mis-parsed")
    func refusals() throws {
        var reassembler = FeishuReassembler()
        var bad = FeishuFrame(service: 1, method: 1, headers: [.init("sum", "2"), .init("seq", "2")], payload: Data())
        #expect(throws: FeishuFrame.DecodeError.self) { try reassembler.add(bad, now: Date()) }
        bad.headers = [.init("sum", "0")]
        #expect(throws: FeishuFrame.DecodeError.self) { try reassembler.add(bad, now: Date()) }
        let event = try frame("event")
        #expect(throws: FeishuFrame.DecodeError.self) { try FeishuFrame(decoding: event.prefix(event.count - 3)) }
        // Only SeqID and LogID: the required service and method are missing.
        #expect(throws: FeishuFrame.DecodeError.self) { try FeishuFrame(decoding: Data([0x08, 0x01, 0x10, 0x02])) }
        #expect(throws: FeishuFrame.DecodeError.self) { try FeishuFrame(decoding: Data([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])) }
    }

    @Test("unknown fields are skipped and the maximum UInt64 LogID round-trips")
    func unknownFieldsAndExtremes() throws {
        var frame = FeishuFrame(seqID: .max, logID: .max, service: -1, method: 1, headers: [.init("type", "event")], payload: Data("{}".utf8), logIDNew: "x")
        var bytes = frame.encoded()
        bytes.append(contentsOf: [0x50, 0x07])  // field 10, varint 7: from a newer server
        let decoded = try FeishuFrame(decoding: bytes)
        #expect(decoded == frame)
        frame.service = 5
        #expect(try FeishuFrame(decoding: frame.encoded()).service == 5)
    }
}
