/// Reads a JSON object whose values are strings, numbers, booleans or arrays of strings (the generic
/// webhook's body, an outbox payload) without `JSONDecoder`, which cost a twentieth of a 收到's CPU
/// and a tenth of a /任务's (issue 16).
///
/// It is a fast path, never a second opinion: it answers only for bodies it fully understands and
/// returns nil for anything else — objects or other arrays as values, `null`, a key given twice, a
/// number that is not finite, a lone surrogate, invalid UTF-8, trailing bytes, any malformation. The
/// caller then decodes with `JSONDecoder`, whose verdict stands. Where it answers, its caller yields what
/// `JSONDecoder` yields (`FlatJSONTests`, `OutboxPayloadTests` compare the two).
public enum FlatJSON {
    public enum Value: Equatable, Sendable {
        case string(String)
        /// The literal as written (`12`, `-0.5e3`): `double` and `int` read it as JSONDecoder would.
        case number(String)
        case bool(Bool)
        case strings([String])

        public var string: String? { if case .string(let value) = self { value } else { nil } }
        public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
        public var strings: [String]? { if case .strings(let value) = self { value } else { nil } }
        /// A finite Double.
        public var double: Double? {
            guard case .number(let text) = self, let value = Double(text), value.isFinite else { return nil }
            return value
        }
        /// An integer written without fraction or exponent.
        public var int: Int? { if case .number(let text) = self { Int(text) } else { nil } }
    }

    /// The members of an object, in the order written. Looked up by a linear scan: a handful of short
    /// ASCII keys compare faster than they hash (a dictionary was half of the fast path's cost).
    public struct Fields: Sendable {
        public fileprivate(set) var members: [(key: String, value: Value)] = []

        public subscript(key: String) -> Value? { members.first { $0.key == key }?.value }
    }

    /// Objects with more members than this go to JSONDecoder (the scans above stay short).
    static let maxMembers = 32

    public static func object(_ body: some Collection<UInt8>) -> Fields? {
        let bytes = Array(body)
        var reader = Reader(bytes: bytes)
        return reader.object()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func object() -> Fields? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var fields = Fields()
            fields.members.reserveCapacity(12)
            skipSpace()
            if take(UInt8(ascii: "}")) { return finish(fields) }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = value(), fields.members.count < FlatJSON.maxMembers, fields[key] == nil else { return nil }
                fields.members.append((key, value))
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                return finish(fields)
            }
        }

        private mutating func finish(_ fields: Fields) -> Fields? {
            skipSpace()
            return index == bytes.count ? fields : nil
        }

        private mutating func value() -> Value? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "["): return strings().map(Value.strings)
            default: return number().map(Value.number)
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { $0.elementsEqual(bytes[index..<index + count]) }
            if matches { index += count }
            return matches
        }

        /// An array of strings only.
        private mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var items: [String] = []
            skipSpace()
            if take(UInt8(ascii: "]")) { return items }
            while true {
                skipSpace()
                guard let item = string() else { return nil }
                items.append(item)
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]")) ? items : nil
            }
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        }

        /// A string; its raw bytes must be valid UTF-8 without control characters.
        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var start = index
            var escaped: [UInt8]? = nil
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    guard var raw = escaped else { return String(validating: bytes[start..<index], as: UTF8.self) }
                    raw.append(contentsOf: bytes[start..<index])
                    return String(validating: raw, as: UTF8.self)
                }
                if byte < 0x20 { return nil }
                if byte == UInt8(ascii: "\\") {
                    if escaped == nil { escaped = [] }
                    escaped!.append(contentsOf: bytes[start..<index])
                    index += 1
                    guard index < bytes.count else { return nil }
                    let code = bytes[index]
                    index += 1
                    switch code {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escaped!.append(code)
                    case UInt8(ascii: "b"): escaped!.append(0x08)
                    case UInt8(ascii: "f"): escaped!.append(0x0C)
                    case UInt8(ascii: "n"): escaped!.append(0x0A)
                    case UInt8(ascii: "r"): escaped!.append(0x0D)
                    case UInt8(ascii: "t"): escaped!.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        escaped!.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                    start = index
                    continue
                }
                index += 1
            }
            return nil
        }

        /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
        private mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = hex4() else { return nil }
            switch high {
            case 0xD800...0xDBFF:
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            case 0xDC00...0xDFFF:
                return nil
            default:
                return Unicode.Scalar(high)
            }
        }

        private mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        /// A number in JSON's grammar, `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, finite as a Double.
        private mutating func number() -> String? {
            let start = index
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
            } else {
                guard digits() > 0 else { return nil }
            }
            if take(UInt8(ascii: ".")) {
                guard digits() > 0 else { return nil }
            }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits() > 0 else { return nil }
            }
            guard let text = String(validating: bytes[start..<index], as: UTF8.self), let value = Double(text), value.isFinite else { return nil }
            return text
        }

        private mutating func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
    }
}
