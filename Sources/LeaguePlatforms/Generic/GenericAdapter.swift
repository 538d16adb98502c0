import Crypto
import Foundation
import LeagueCore

/// The generic signed JSON webhook: the simplest platform, used by tests and by any
/// bridge that can sign a body with a shared secret.
///
/// Inbound: `POST /webhook/generic` with `{"id","group","sender","text","ts"}` and
/// `X-LeagueOps-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
/// Outbound: `POST outbound_url` with `{"group","text","mentions","key"}`, signed the same way.
public struct GenericAdapter: PlatformAdapter {
    public let name = "generic"
    public let secret: String
    public let outboundURL: String
    /// How far a message's `ts` may be from the server clock, in seconds.
    public let maxSkew: Double
    /// Signs outbound requests when set (`outbound_secret`), so the receiving bridge never holds
    /// the secret that lets it post into the bot; `secret` otherwise.
    public let outboundSecret: String?

    /// The HMAC keyed with `secret` once, copied for each request (keying it was a third of the check).
    private let inboundMAC: HMAC<SHA256>
    private let outboundMAC: HMAC<SHA256>

    public init(secret: String, outboundURL: String, maxSkew: Double = 300, outboundSecret: String? = nil) {
        self.secret = secret
        self.inboundMAC = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        self.outboundMAC = HMAC<SHA256>(key: SymmetricKey(data: Array((outboundSecret ?? secret).utf8)))
        self.outboundURL = outboundURL
        self.maxSkew = maxSkew
        self.outboundSecret = outboundSecret
    }

    public static let signatureHeader = "X-LeagueOps-Signature"

    /// `sha256=<hex>` for a body.
    public static func signature(body: Data, secret: String) -> String {
        "sha256=" + Bytes.hex(Bytes.hmacSHA256(key: Array(secret.utf8), message: body))
    }

    struct Payload: Decodable, Equatable {
        var id: String
        var group: String
        var sender: String
        var text: String
        var ts: Double
    }

    public func decode(_ request: InboundRequest, path: String, now: Date) throws(InboundRejection) -> InboundOutcome {
        guard request.method == "POST" else { throw InboundRejection(status: 405, reason: "use POST") }
        guard let given = try request.header(Self.signatureHeader) else {
            throw .unauthorized("missing \(Self.signatureHeader) header")
        }
        var mac = inboundMAC
        mac.update(data: request.body)
        let expected = mac.finalize()
        guard given.hasPrefix("sha256="), let givenBytes = Bytes.fromHex(String(given.dropFirst(7))), Bytes.constantTimeEqual(givenBytes, expected) else {
            throw .unauthorized("bad signature")
        }
        let payload: Payload
        if let fast = Payload(flat: request.body) {
            payload = fast
        } else {
            do {
                payload = try JSONDecoder().decode(Payload.self, from: request.body)
            } catch {
                throw .badRequest("body is not the generic message JSON {id, group, sender, text, ts}")
            }
        }
        guard payload.ts.isFinite, abs(payload.ts - now.timeIntervalSince1970) <= maxSkew else {
            throw .unauthorized("timestamp more than \(Int(maxSkew)) s away from the server clock (replay?)")
        }
        guard !payload.id.isEmpty, payload.id.utf8.count <= 256, !payload.group.isEmpty, !payload.sender.isEmpty else {
            throw .badRequest("id, group and sender must be non-empty (id at most 256 bytes)")
        }
        let message = ChatMessage(
            platform: name, chat: payload.group, sender: payload.sender, text: payload.text,
            messageID: payload.id, sentAt: Date(timeIntervalSince1970: payload.ts)
        )
        return .message(try InboundLimits.check(message), reply: .json(#"{"ok":true}"#))
    }

    /// `{"group","key","mentions","text"}` (keys sorted), written by `OutJSON` and signed with the
    /// outbound key made once.
    public func encode(_ message: OutboundMessage, now: Date) throws(EncodeError) -> OutboundRequest {
        let body = OutJSON.object([
            ("group", .string(message.group.chat)), ("key", .string(message.key)),
            ("mentions", .array(message.mentions.compactMap(\.userID).map(OutJSON.string))), ("text", .string(message.text)),
        ]).data
        var mac = outboundMAC
        mac.update(data: body)
        return OutboundRequest(
            url: outboundURL,
            headers: [
                "Content-Type": "application/json; charset=utf-8",
                Self.signatureHeader: "sha256=" + Bytes.hex(mac.finalize()),
                "Idempotency-Key": message.key,
            ],
            body: body
        )
    }

    public func classify(_ response: OutboundResponse) -> DeliveryOutcome { classifyByStatus(response) }
}

extension GenericAdapter.Payload {
    /// The body read by `FlatJSON`'s fast path when it is a flat object with the five fields of the
    /// right types (other keys ignored, as `JSONDecoder` ignores them); nil otherwise.
    init?(flat body: Data) {
        guard let fields = FlatJSON.object(body), let id = fields["id"]?.string, let group = fields["group"]?.string,
            let sender = fields["sender"]?.string, let text = fields["text"]?.string, let ts = fields["ts"]?.double
        else { return nil }
        self.init(id: id, group: group, sender: sender, text: text, ts: ts)
    }
}
