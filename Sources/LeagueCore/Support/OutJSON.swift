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
        let utf8 = value.utf8
        var runStart = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            let escape: String?
            var next = utf8.index(after: index)
            switch byte {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0x08: escape = "\\b"
            case 0x0C: escape = "\\f"
            case 0x00..<0x20:
                let hex = String(byte, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            case 0xE2:
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                let rest = utf8[next...].prefix(2)
                if rest.count == 2, rest.first == 0x80, let last = rest.last, last == 0xA8 || last == 0xA9 {
                    escape = last == 0xA8 ? "\\u2028" : "\\u2029"
                    next = utf8.index(next, offsetBy: 2)
                } else {
                    escape = nil
                }
            default:
                escape = nil
            }
            if let escape {
                out.append(contentsOf: utf8[runStart..<index])
                out.append(contentsOf: escape.utf8)
                runStart = next
            }
            index = next
        }
        out.append(contentsOf: utf8[runStart..<utf8.endIndex])
        out.append(UInt8(ascii: "\""))
    }
}
