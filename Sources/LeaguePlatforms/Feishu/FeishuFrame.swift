import Foundation

/// One `pbbp2.Frame` of the Feishu long connection (proto2), the only message on that socket.
///
/// ```proto
/// message Header { required string key = 1; required string value = 2; }
/// message Frame {
///   required uint64 SeqID = 1;  required uint64 LogID = 2;
///   required int32 service = 3; required int32 method = 4;   // 0 control, 1 data
///   repeated Header headers = 5;
///   optional string payload_encoding = 6; optional string payload_type = 7;
///   optional bytes payload = 8;           optional string LogIDNew = 9;
/// }
/// ```
/// A hand-written codec: one message does not justify swift-protobuf and its generated code.
/// `SeqID` and `LogID` are `UInt64` end to end (LogIDs exceed 2^53), the four required fields are
/// always written (even when 0, as the official serialisers insist), and unknown fields are skipped
/// when decoding, so a newer server field does not break the connection.
public struct FeishuFrame: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public var seqID: UInt64
    public var logID: UInt64
    public var service: Int32
    /// 0 = control (ping / pong), 1 = data (event / card).
    public var method: Int32
    public var headers: [Header]
    public var payloadEncoding: String?
    public var payloadType: String?
    public var payload: Data?
    public var logIDNew: String?

    public static let methodControl: Int32 = 0
    public static let methodData: Int32 = 1

    public init(
        seqID: UInt64 = 0, logID: UInt64 = 0, service: Int32, method: Int32, headers: [Header] = [],
        payloadEncoding: String? = nil, payloadType: String? = nil, payload: Data? = nil, logIDNew: String? = nil
    ) {
        self.seqID = seqID
        self.logID = logID
        self.service = service
        self.method = method
        self.headers = headers
        self.payloadEncoding = payloadEncoding
        self.payloadType = payloadType
        self.payload = payload
        self.logIDNew = logIDNew
    }

    /// The first value of a header.
    public func header(_ key: String) -> String? { headers.first { $0.key == key }?.value }

    /// `type` header: `event`, `card`, `ping`, `pong`.
    public var type: String? { header("type") }

    /// The client's ping: control frame, `type=ping`, no payload.
    public static func ping(serviceID: Int32) -> FeishuFrame {
        FeishuFrame(service: serviceID, method: methodControl, headers: [Header("type", "ping")])
    }

    /// The answer to a data frame: the frame echoed (ids, service, method, every header) with
    /// `biz_rt` appended and the payload replaced by `{"code":<code>}`.
    public func response(code: Int, handlerMilliseconds: Int) -> FeishuFrame {
        var answer = self
        answer.headers.append(Header("biz_rt", String(handlerMilliseconds)))
        answer.payload = Data("{\"code\":\(code)}".utf8)
        return answer
    }

    // MARK: Encoding

    /// The proto2 wire bytes.
    public func encoded() -> Data {
        var out = [UInt8]()
        out.reserveCapacity(64 + (payload?.count ?? 0))
        Self.putVarintField(1, seqID, &out)
        Self.putVarintField(2, logID, &out)
        // int32 is written as a sign-extended 64-bit varint (protobuf's rule for negative values).
        Self.putVarintField(3, UInt64(bitPattern: Int64(service)), &out)
        Self.putVarintField(4, UInt64(bitPattern: Int64(method)), &out)
        for header in headers {
            var inner = [UInt8]()
            Self.putBytesField(1, Array(header.key.utf8), &inner)
            Self.putBytesField(2, Array(header.value.utf8), &inner)
            Self.putBytesField(5, inner, &out)
        }
        if let payloadEncoding { Self.putBytesField(6, Array(payloadEncoding.utf8), &out) }
        if let payloadType { Self.putBytesField(7, Array(payloadType.utf8), &out) }
        if let payload { Self.putBytesField(8, Array(payload), &out) }
        if let logIDNew { Self.putBytesField(9, Array(logIDNew.utf8), &out) }
        return Data(out)
    }

    private static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    private static func putVarintField(_ number: UInt64, _ value: UInt64, _ out: inout [UInt8]) {
        putVarint(number << 3, &out)
        putVarint(value, &out)
    }

    private static func putBytesField(_ number: UInt64, _ bytes: [UInt8], _ out: inout [UInt8]) {
        putVarint(number << 3 | 2, &out)
        putVarint(UInt64(bytes.count), &out)
        out.append(contentsOf: bytes)
    }

    // MARK: Decoding

    /// Why bytes are not a `pbbp2.Frame`.
    public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { "not a Feishu pbbp2.Frame: \(reason)" }
    }

    /// Parses the proto2 wire bytes; the four required fields must be present, strings must be UTF-8.
    public init(decoding data: some DataProtocol) throws(DecodeError) {
        var reader = Reader(bytes: Array(data))
        var seqID: UInt64?, logID: UInt64?, service: Int32?, method: Int32?
        var frame = FeishuFrame(service: 0, method: 0)
        while !reader.atEnd {
            let key = try reader.varint()
            let number = key >> 3
            let wireType = key & 7
            switch (number, wireType) {
            case (1, 0): seqID = try reader.varint()
            case (2, 0): logID = try reader.varint()
            case (3, 0): service = Int32(truncatingIfNeeded: try reader.varint())
            case (4, 0): method = Int32(truncatingIfNeeded: try reader.varint())
            case (5, 2):
                var inner = Reader(bytes: try reader.lengthDelimited())
                var headerKey: String?, headerValue: String?
                while !inner.atEnd {
                    let innerKey = try inner.varint()
                    switch (innerKey >> 3, innerKey & 7) {
                    case (1, 2): headerKey = try Self.string(inner.lengthDelimited(), field: "Header.key")
                    case (2, 2): headerValue = try Self.string(inner.lengthDelimited(), field: "Header.value")
                    default: try inner.skip(wireType: innerKey & 7)
                    }
                }
                guard let headerKey, let headerValue else { throw DecodeError("a header lacks its required key or value") }
                frame.headers.append(Header(headerKey, headerValue))
            case (6, 2): frame.payloadEncoding = try Self.string(reader.lengthDelimited(), field: "payload_encoding")
            case (7, 2): frame.payloadType = try Self.string(reader.lengthDelimited(), field: "payload_type")
            case (8, 2): frame.payload = Data(try reader.lengthDelimited())
            case (9, 2): frame.logIDNew = try Self.string(reader.lengthDelimited(), field: "LogIDNew")
            case (1...9, _): throw DecodeError("field \(number) has wire type \(wireType)")
            default: try reader.skip(wireType: wireType)
            }
        }
        guard let seqID, let logID, let service, let method else {
            throw DecodeError("a required field (SeqID, LogID, service, method) is missing")
        }
        frame.seqID = seqID
        frame.logID = logID
        frame.service = service
        frame.method = method
        self = frame
    }

    private static func string(_ bytes: [UInt8], field: String) throws(DecodeError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw DecodeError("\(field) is not UTF-8") }
        return text
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index >= bytes.count }

        mutating func varint() throws(DecodeError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.count else { throw DecodeError("truncated varint") }
                let byte = bytes[index]
                index += 1
                guard shift < 64 else { throw DecodeError("varint longer than 10 bytes") }
                if shift == 63, byte & 0x7E != 0 { throw DecodeError("varint overflows 64 bits") }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }

        mutating func lengthDelimited() throws(DecodeError) -> [UInt8] {
            let length = try varint()
            guard length <= UInt64(bytes.count - index) else { throw DecodeError("length \(length) runs past the end") }
            defer { index += Int(length) }
            return Array(bytes[index..<index + Int(length)])
        }

        mutating func skip(wireType: UInt64) throws(DecodeError) {
            switch wireType {
            case 0: _ = try varint()
            case 1: try advance(8)
            case 2: _ = try lengthDelimited()
            case 5: try advance(4)
            default: throw DecodeError("unsupported wire type \(wireType)")
            }
        }

        mutating func advance(_ count: Int) throws(DecodeError) {
            guard count <= bytes.count - index else { throw DecodeError("truncated fixed-size field") }
            index += count
        }
    }
}

/// Joins the fragments of split Feishu data frames (`sum` > 1, `seq` 0-based, grouped by
/// `message_id`) as bytes: a fragment may end inside a UTF-8 character, so nothing is decoded
/// before the whole payload is there. Fragments may come in any order; an incomplete set is
/// dropped after `ttl` seconds (the platform re-pushes an event that was not answered). Pure value.
public struct FeishuReassembler: Sendable {
    /// A complete payload and the frame to answer (the one that completed it).
    public struct Complete: Sendable, Equatable {
        public var frame: FeishuFrame
        public var payload: Data
    }

    private struct Partial: Sendable {
        var parts: [Data?]
        var firstSeen: Date
    }

    private var partials: [String: Partial] = [:]
    public let ttl: Double
    /// Upper bound on fragments per message, so a hostile `sum` cannot allocate without limit.
    public let maxFragments: Int

    public init(ttl: Double = 5, maxFragments: Int = 1024) {
        self.ttl = ttl
        self.maxFragments = maxFragments
    }

    /// How many messages are waiting for fragments.
    public var pending: Int { partials.count }

    /// Takes one data frame; returns the whole payload once every fragment is there.
    /// - Throws: `FeishuFrame.DecodeError` for a bad `sum`/`seq` pair.
    public mutating func add(_ frame: FeishuFrame, now: Date) throws(FeishuFrame.DecodeError) -> Complete? {
        expire(now: now)
        let sum = Int(frame.header("sum") ?? "1") ?? -1
        let seq = Int(frame.header("seq") ?? "0") ?? -1
        guard sum >= 1, sum <= maxFragments, seq >= 0, seq < sum else {
            throw FeishuFrame.DecodeError("fragment seq \(frame.header("seq") ?? "?") of sum \(frame.header("sum") ?? "?") is out of range")
        }
        let payload = frame.payload ?? Data()
        guard sum > 1 else { return Complete(frame: frame, payload: payload) }
        let id = frame.header("message_id") ?? ""
        var partial = partials[id] ?? Partial(parts: Array(repeating: nil, count: sum), firstSeen: now)
        guard partial.parts.count == sum else {
            throw FeishuFrame.DecodeError("message \(id) changed its fragment count from \(partial.parts.count) to \(sum)")
        }
        partial.parts[seq] = payload
        if partial.parts.allSatisfy({ $0 != nil }) {
            partials[id] = nil
            var whole = Data()
            for part in partial.parts { whole.append(part!) }
            return Complete(frame: frame, payload: whole)
        }
        partials[id] = partial
        return nil
    }

    /// Drops incomplete messages older than `ttl`.
    public mutating func expire(now: Date) {
        partials = partials.filter { now.timeIntervalSince($0.value.firstSeen) < ttl }
    }
}
