import Foundation

/// JSON written with members in the given order and without escaping `/` or non-ASCII,
/// so an outbound body is the same bytes every time.
public indirect enum OutJSON: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case array([OutJSON])
    case object([(String, OutJSON)])

    public static func == (lhs: OutJSON, rhs: OutJSON) -> Bool { lhs.text == rhs.text }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var data: Data { Data(bytes) }

    /// The UTF-8 bytes, written into one buffer.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .string(let value):
            OutJSON.quote(value, into: &out)
        case .int(let value):
            out.append(contentsOf: String(value).utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                OutJSON.quote(member.0, into: &out)
                out.append(UInt8(ascii: ":"))
                member.1.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal for `value`.
    public static func quoted(_ value: String) -> String {
        var out: [UInt8] = []
        quote(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Runs of bytes that need no escape are copied whole (appending scalar by scalar was a visible
    /// share of a /任务's cost, issue 16); the boundaries are ASCII bytes or the start of U+2028/U+2029.
    private static func quote(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                var next = index + 1
                let escape: StaticString?
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case 0x08: escape = "\\b"
                case 0x0C: escape = "\\f"
                case 0x00..<0x20: escape = ""
                case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                    escape = utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                    next = index + 3
                default: escape = nil
                }
                if let escape {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    if escape.utf8CodeUnitCount == 0 {
                        // Other control characters: \u00XX.
                        out.append(contentsOf: "\\u00".utf8)
                        out.append(hexDigits[Int(byte >> 4)])
                        out.append(hexDigits[Int(byte & 0x0F)])
                    } else {
                        escape.withUTF8Buffer { out.append(contentsOf: $0) }
                    }
                    runStart = next
                }
                index = next
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
