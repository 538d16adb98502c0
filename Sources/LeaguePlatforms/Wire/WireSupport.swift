import Crypto
import Foundation
import _CryptoExtras

// Wire helpers shared by the WeCom, DingTalk and Feishu adapters: a JSON reader that
// accepts any shape, a JSON writer with a fixed key order (so bodies are byte-stable),
// percent-encoding, UTF-8 byte-limit cutting, strict PKCS#7 and raw AES-256-CBC.

/// Any JSON value, for reading vendor payloads whose optional fields vary.
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The JSON in `data`, or nil when it is not valid JSON.
    static func parse(_ data: some DataProtocol) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(data))
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// A whole number that fits Int64, from a JSON number or a decimal string.
    var int64: Int64? {
        switch self {
        case .number(let value):
            guard value.isFinite, value == value.rounded(), abs(value) < 9.0e15 else { return nil }
            return Int64(value)
        case .string(let text):
            return Int64(text)
        default:
            return nil
        }
    }

    /// A non-empty string member.
    func text(_ key: String) -> String? {
        guard let value = self[key]?.string, !value.isEmpty else { return nil }
        return value
    }
}

public enum WireText {
    /// Percent-encodes everything but the RFC 3986 unreserved characters (`+`, `/`, `=` become `%2B`, `%2F`, `%3D`).
    static func percentEncode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// Cuts `text` to at most `maxBytes` UTF-8 bytes at a character (grapheme) boundary,
    /// ending a cut text with `marker` (which counts toward the limit). Text that fits is unchanged.
    public static func cut(_ text: String, maxBytes: Int, marker: String = "…") -> String {
        guard text.utf8.count > maxBytes else { return text }
        let markerBytes = marker.utf8.count
        let budget = max(0, maxBytes - markerBytes)
        var used = 0
        var out = ""
        for character in text {
            let size = character.utf8.count
            if used + size > budget { break }
            used += size
            out.append(character)
        }
        return markerBytes <= maxBytes ? out + marker : out
    }

    /// Whitespace including the U+2005 space WeChat-family clients put after an @-mention.
    static func isSpace(_ character: Character) -> Bool {
        character.isWhitespace || character == "\u{2005}"
    }

    static func trim(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, isSpace(first) { slice.removeFirst() }
        while let last = slice.last, isSpace(last) { slice.removeLast() }
        return String(slice)
    }

    /// Standard base64 of bytes.
    static func base64(_ bytes: some DataProtocol) -> String { Data(bytes).base64EncodedString() }

    /// Decodes canonical-alphabet base64 (with padding); nil on anything else.
    static func base64Decode(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count % 4 == 0, let data = Data(base64Encoded: text) else { return nil }
        return Array(data)
    }
}

/// Strict PKCS#7: the pad byte is 1…block and every pad byte equals it.
enum PKCS7 {
    static func pad(_ bytes: [UInt8], block: Int) -> [UInt8] {
        let amount = block - bytes.count % block
        return bytes + [UInt8](repeating: UInt8(amount), count: amount)
    }

    static func unpad(_ bytes: [UInt8], block: Int) -> [UInt8]? {
        guard let last = bytes.last else { return nil }
        let amount = Int(last)
        guard amount >= 1, amount <= block, amount <= bytes.count else { return nil }
        var difference: UInt8 = 0
        for byte in bytes[(bytes.count - amount)...] { difference |= byte ^ last }
        guard difference == 0 else { return nil }
        return Array(bytes[..<(bytes.count - amount)])
    }
}

/// AES-256-CBC without library padding (callers pad and unpad themselves).
enum AESCBC {
    static func decrypt(_ ciphertext: [UInt8], key: [UInt8], iv: [UInt8]) -> [UInt8]? {
        guard key.count == 32, iv.count == 16, !ciphertext.isEmpty, ciphertext.count % 16 == 0,
            let vector = try? AES._CBC.IV(ivBytes: iv),
            let plain = try? AES._CBC.decrypt(ciphertext, using: SymmetricKey(data: key), iv: vector, noPadding: true)
        else { return nil }
        return Array(plain)
    }

    static func encrypt(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8]) -> [UInt8]? {
        guard key.count == 32, iv.count == 16, !plaintext.isEmpty, plaintext.count % 16 == 0,
            let vector = try? AES._CBC.IV(ivBytes: iv),
            let cipher = try? AES._CBC.encrypt(plaintext, using: SymmetricKey(data: key), iv: vector, noPadding: true)
        else { return nil }
        return Array(cipher)
    }
}
