import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// Read access to the vector JSON files in `Vectors/` (copied from the shared protocol brief).
struct Vector {
    let value: Any?

    static func load(_ file: String) throws -> Vector {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/\(file)")
        return Vector(value: try JSONSerialization.jsonObject(with: Data(contentsOf: url)))
    }

    subscript(key: String) -> Vector { Vector(value: (value as? [String: Any])?[key]) }
    subscript(index: Int) -> Vector {
        guard let array = value as? [Any], array.indices.contains(index) else { return Vector(value: nil) }
        return Vector(value: array[index])
    }

    var string: String? { value as? String }
    var array: [Vector] { (value as? [Any])?.map { Vector(value: $0) } ?? [] }
    var int64: Int64? { (value as? NSNumber)?.int64Value ?? string.flatMap { Int64($0) } }

    /// The string, or a test failure naming what was missing.
    func str(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(string, "vector value missing or not a string", sourceLocation: sourceLocation)
    }

    /// This vector's `headers` (names lower-cased, as the server hands them over) and `body` as a POST.
    func request() throws -> InboundRequest {
        var headers: [String: [String]] = [:]
        for (name, value) in (self["headers"].value as? [String: String]) ?? [:] { headers[name.lowercased()] = [value] }
        return InboundRequest(method: "POST", headers: headers, body: Data(try self["body"].str().utf8))
    }

    var queryDictionary: [String: String] {
        var out: [String: String] = [:]
        for (key, value) in (value as? [String: Any]) ?? [:] { if let text = value as? String { out[key] = text } }
        return out
    }

    /// True when `data` is JSON equal to this vector value (key order and spacing ignored).
    func jsonEquals(_ data: Data) -> Bool {
        guard let mine = try? JSONSerialization.jsonObject(with: data), let theirs = value else { return false }
        return NSDictionary(dictionary: ["v": mine]).isEqual(to: ["v": theirs])
    }
}

/// Parses a query string the way the server must: split on `&` and `=`, percent-decode, keep `+`.
func decodeQuery(_ query: String) -> [String: String] {
    var out: [String: String] = [:]
    for pair in query.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let key = parts.first?.removingPercentEncoding else { continue }
        out[key] = parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? "" : ""
    }
    return out
}

func hexBytes(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    try #require(Bytes.fromHex(text), "not hex: \(text)", sourceLocation: sourceLocation)
}

func utf8(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

/// The rejection an inbound decode throws, or nil when it did not throw.
func rejection(_ body: () throws(InboundRejection) -> InboundOutcome) -> InboundRejection? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A POST of `body` signed with `encryptKey`, as Feishu sends it.
func feishuSigned(_ body: Data, encryptKey: String, timestamp: String, nonce: String = "n") -> InboundRequest {
    let signature = FeishuAdapter.signature(timestamp: timestamp, nonce: nonce, encryptKey: encryptKey, body: body)
    let headers = ["x-lark-request-timestamp": [timestamp], "x-lark-request-nonce": [nonce], "x-lark-signature": [signature]]
    return InboundRequest(method: "POST", headers: headers, body: body)
}

extension PlatformAdapter {
    /// The rejection decoding `request` at the path named after the platform throws, or nil when it is accepted.
    func refusal(_ request: InboundRequest, now: Date) -> InboundRejection? {
        rejection { () throws(InboundRejection) in try decode(request, path: name, now: now) }
    }
}

extension InboundOutcome {
    var chatMessage: ChatMessage? {
        if case .message(let message, _) = self { return message }
        return nil
    }

    var reply: PlainResponse? {
        switch self {
        case .message(_, let reply), .ignore(_, let reply): return reply
        case .respond(let response): return response
        }
    }

    var directResponse: PlainResponse? {
        if case .respond(let response) = self { return response }
        return nil
    }

    var isIgnore: Bool {
        if case .ignore = self { return true }
        return false
    }
}

func group(_ platform: String, _ credentials: [String: String]) -> GroupBinding {
    GroupBinding(platform: platform, chat: "chat-1", credentials: credentials)
}

func mention(user: String? = nil, mobile: String? = nil, name: String = "") -> Mention {
    Mention(memberID: "m-\(user ?? mobile ?? name)", name: name, userID: user, mobile: mobile)
}
