import Crypto
import Foundation
import LeagueCore

/// WeCom's callback envelope ("WXBizMsgCrypt"), shared by the self-built-app XML callback,
/// the 智能机器人 JSON callback and DingTalk's event subscriptions.
///
/// * key = base64decode(EncodingAESKey + "="), 32 bytes; IV = key[0..<16]
/// * AES-256-CBC; PKCS#7 padding to a multiple of **32** bytes (pad byte 1…32), unpadded strictly
/// * plaintext = random(16) ‖ uint32 big-endian length ‖ message ‖ receive id
/// * msg_signature = hex(SHA-1(sorted([token, timestamp, nonce, encrypt]).joined()))
public struct WeComCrypto: Sendable {
    public let token: String
    /// The 32-byte AES key decoded from the EncodingAESKey.
    public let aesKey: [UInt8]

    /// WeCom pads to this block size, not AES's 16.
    public static let paddingBlock = 32

    /// - Returns: nil when `encodingAESKey` is not 43 base64 characters.
    public init?(token: String, encodingAESKey: String) {
        guard let key = Self.decodeEncodingAESKey(encodingAESKey) else { return nil }
        self.token = token
        self.aesKey = key
    }

    /// Decodes the 43-character EncodingAESKey to 32 bytes, ignoring the spare low bits of the
    /// last character (which WeCom's keys usually set, so a strict base64 decoder may refuse them).
    public static func decodeEncodingAESKey(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count == 43 else { return nil }
        var bits: UInt32 = 0
        var bitCount = 0
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for character in characters {
            guard let value = base64Value(character) else { return nil }
            bits = (bits << 6) | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                out.append(UInt8((bits >> UInt32(bitCount)) & 0xFF))
                bits &= (1 << UInt32(bitCount)) - 1
            }
        }
        return out.count == 32 ? out : nil
    }

    private static func base64Value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    public var iv: [UInt8] { Array(aesKey[0..<16]) }

    /// hex(SHA-1) of the four strings sorted by their UTF-8 bytes and concatenated.
    public func signature(timestamp: String, nonce: String, encrypt: String) -> String {
        let parts = [token, timestamp, nonce, encrypt].sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return Bytes.hex(Insecure.SHA1.hash(data: Array(parts.joined().utf8)))
    }

    /// Checks `msg_signature` in constant time.
    public func verify(signature given: String, timestamp: String, nonce: String, encrypt: String) throws(InboundRejection) {
        let expected = signature(timestamp: timestamp, nonce: nonce, encrypt: encrypt)
        guard Bytes.constantTimeEqual(Array(given.lowercased().utf8), Array(expected.utf8)) else {
            throw .unauthorized("WeCom msg_signature does not match (wrong token or tampered request)")
        }
    }

    /// The decrypted parts of an envelope.
    public struct Opened: Sendable, Equatable {
        public var random: [UInt8]
        public var message: [UInt8]
        public var receiveID: String
        public var padByte: Int
    }

    /// Decrypts `encrypt` and checks the trailing receive id (CorpID, or "" for a 智能机器人).
    public func open(_ encrypt: String, receiveID expectedReceiveID: String) throws(InboundRejection) -> Opened {
        guard let cipher = WireText.base64Decode(encrypt) else {
            throw .badRequest("WeCom encrypt is not valid base64")
        }
        guard cipher.count % 16 == 0 else {
            throw .badRequest("WeCom ciphertext length \(cipher.count) is not a multiple of the 16-byte AES block")
        }
        guard cipher.count % Self.paddingBlock == 0 else {
            throw .badRequest("WeCom ciphertext length \(cipher.count) is not a multiple of its 32-byte padding block")
        }
        guard let padded = AESCBC.decrypt(cipher, key: aesKey, iv: iv) else {
            throw .badRequest("WeCom ciphertext could not be decrypted")
        }
        guard let plain = PKCS7.unpad(padded, block: Self.paddingBlock) else {
            throw .badRequest("WeCom plaintext has invalid PKCS#7 padding (wrong EncodingAESKey?)")
        }
        guard plain.count >= 20 else { throw .badRequest("WeCom plaintext is shorter than its 20-byte header") }
        let length = plain[16..<20].reduce(0) { ($0 << 8) | Int($1) }
        guard length <= plain.count - 20 else {
            throw .badRequest("WeCom plaintext length field \(length) exceeds the data")
        }
        let message = Array(plain[20..<(20 + length)])
        let trailing = Array(plain[(20 + length)...])
        guard Bytes.constantTimeEqual(trailing, Array(expectedReceiveID.utf8)) else {
            throw .unauthorized("WeCom message was encrypted for another receiver (receive id does not match the configured one)")
        }
        return Opened(random: Array(plain[0..<16]), message: message, receiveID: expectedReceiveID, padByte: Int(padded[padded.count - 1]))
    }

    /// Encrypts `message` for `receiveID` with the given 16-byte random prefix (random when nil).
    /// A fixed prefix reproduces the test vectors; production passes nil.
    public func seal(_ message: [UInt8], receiveID: String, random: [UInt8]? = nil) -> String {
        let prefix = random.flatMap { $0.count == 16 ? $0 : nil } ?? Self.randomBytes(16)
        let length = UInt32(message.count)
        var plain = prefix
        plain += [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        plain += message
        plain += Array(receiveID.utf8)
        let padded = PKCS7.pad(plain, block: Self.paddingBlock)
        // Encryption of a padded, block-aligned input with a 32-byte key cannot fail.
        let cipher = AESCBC.encrypt(padded, key: aesKey, iv: iv) ?? []
        return WireText.base64(cipher)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
