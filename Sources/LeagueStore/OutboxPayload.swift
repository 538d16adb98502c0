import Foundation
import LeagueCore

/// What an outbox row's `payload` holds (issue 11): the unit, the chat and the robot's alias, the
/// text, and the mentioned members' ids — never a credential, a platform user id or a mobile
/// number. Credentials and mentions are resolved from the config when the message is sent, so a
/// rotated key applies to pending rows and a removed member is not @-mentioned.
///
/// Every payload carries its version `v`. Version 1 (before issue 11) had no `v` and held the whole
/// `OutboundMessage`, credentials and mobiles included; it is still read (and the migration
/// "v6-security-outbox-payload-v2" rewrites such rows). A payload of a later version than this
/// build knows is not decoded: the row is left for the outbox service to put aside.
struct OutboxPayload: Codable, Equatable {
    static let currentVersion = 2

    var v: Int
    var key: String
    var unit: String
    var platform: String
    var chat: String
    var robot: String
    var text: String
    /// Member ids of the people to @-mention.
    var mentions: [String]
    var priority: Int
    var markdown: Bool

    init(_ message: OutboundMessage) {
        v = Self.currentVersion
        key = message.key
        unit = message.unitID
        platform = message.group.platform
        chat = message.group.chat
        robot = message.group.robot
        text = message.text
        var seen: Set<String> = []
        mentions = message.mentions.map(\.memberID).filter { seen.insert($0).inserted }
        priority = message.priority.rawValue
        markdown = message.markdown
    }

    /// The message as stored: no credentials, mentions by member id only (name, user id and mobile
    /// are filled in at send time).
    var message: OutboundMessage {
        OutboundMessage(
            key: key, unitID: unit, group: GroupBinding(platform: platform, chat: chat, robot: robot), text: text,
            mentions: mentions.map { Mention(memberID: $0, name: "", userID: nil, mobile: nil) },
            priority: Priority(rawValue: priority) ?? .routine, markdown: markdown
        )
    }

    /// The payload's JSON, keys sorted, written by `OutJSON` (JSONEncoder was a tenth of a /任务's cost).
    static func encode(_ message: OutboundMessage) throws -> Data {
        OutboxPayload(message).json.data
    }

    var json: OutJSON {
        .object([
            ("chat", .string(chat)), ("key", .string(key)), ("markdown", .bool(markdown)),
            ("mentions", .array(mentions.map(OutJSON.string))), ("platform", .string(platform)),
            ("priority", .int(Int64(priority))), ("robot", .string(robot)), ("text", .string(text)),
            ("unit", .string(unit)), ("v", .int(Int64(v))),
        ])
    }

    /// A payload of the current version read by `FlatJSON`'s fast path; nil when it cannot tell
    /// (`decode` then asks JSONDecoder).
    init?(flat data: Data) {
        guard let fields = FlatJSON.object(data), let v = fields["v"]?.int, let key = fields["key"]?.string,
            let unit = fields["unit"]?.string, let platform = fields["platform"]?.string, let chat = fields["chat"]?.string,
            let robot = fields["robot"]?.string, let text = fields["text"]?.string, let mentions = fields["mentions"]?.strings,
            let priority = fields["priority"]?.int, let markdown = fields["markdown"]?.bool
        else { return nil }
        (self.v, self.key, self.unit, self.platform, self.chat, self.robot) = (v, key, unit, platform, chat, robot)
        (self.text, self.mentions, self.priority, self.markdown) = (text, mentions, priority, markdown)
    }

    private struct Versioned: Decodable { var v: Int? }

    /// The version a payload says it is (1 for the unversioned payloads of before issue 11), nil for garbage.
    static func version(of data: Data) -> Int? {
        (try? JSONDecoder().decode(Versioned.self, from: data)).map { $0.v ?? 1 }
    }

    /// Decodes a payload of any version this build knows; nil for garbage or a later version.
    static func decode(_ data: Data) -> OutboundMessage? {
        // A payload of this version (nearly every row) in one pass; the others are told apart below.
        if let payload = OutboxPayload(flat: data), payload.v == currentVersion { return payload.message }
        if let payload = try? JSONDecoder().decode(OutboxPayload.self, from: data), payload.v == currentVersion {
            return payload.message
        }
        // Version 1 (no `v`): the whole OutboundMessage; drop what must not be kept.
        guard let versioned = try? JSONDecoder().decode(Versioned.self, from: data), versioned.v == nil,
            let legacy = try? JSONDecoder().decode(OutboundMessage.self, from: data)
        else { return nil }
        return OutboxPayload(legacy).message
    }
}
