import Foundation
import GRDB
import LeagueCore
import Testing

@testable import LeagueStore

/// Issue 11 point 3 and issue 10 point 8: outbox payloads carry a version, hold no credential and
/// no mobile number, and rows written by the previous release still decode after the schema change.
struct OutboxPayloadTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// An outbox row exactly as the release before issue 11 wrote it: the whole OutboundMessage as
    /// JSON, the robot's key inside it and as robot_id, the mentioned member's mobile number.
    static let legacyPayload =
        #"{"key":"task:7:grp:g1:step:0","unitID":"g1","group":{"platform":"wecom","chat":"wrchat-g1","credentials":{"robot_key":"key-g1-5c0ffee"}},"text":"【紧急任务 T-7】今晚上报","mentions":[{"memberID":"m-g1","name":"网格员一","userID":"wx-g1","mobile":"13900000009"}],"priority":0,"markdown":false}"#

    @Test func aRowWrittenByThePreviousReleaseDecodesAfterTheUpgradeWithItsSecretsGone() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("payload-\(UUID().uuidString).sqlite").path
        do {
            let old = try DatabaseQueue(path: path)
            try Migrations.migrator().migrate(old, upTo: "v5-outbox-due-order")
            try await old.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO outbox (key, unit_id, platform, chat, robot_id, priority, payload, text_bytes, state, next_attempt_at, created_at)
                        VALUES ('task:7:grp:g1:step:0', 'g1', 'wecom', 'wrchat-g1', 'wecom:key-g1-5c0ffee', 0, ?, 20, 'pending', ?, ?)
                        """, arguments: [Data(Self.legacyPayload.utf8), t0.timeIntervalSince1970, t0.timeIntervalSince1970])
            }
            try old.close()
        }
        let store = try SQLiteStore(path: path)
        let due = try await store.read { try $0.dueOutbox(at: .distantFuture, limit: 10) }
        let message = try #require(due.first?.message)
        #expect(message.key == "task:7:grp:g1:step:0" && message.unitID == "g1" && message.text == "【紧急任务 T-7】今晚上报")
        #expect(message.priority == .urgent)
        #expect(message.group.chat == "wrchat-g1" && message.group.credentials.isEmpty)
        #expect(message.mentions.map(\.memberID) == ["m-g1"])
        #expect(message.mentions.allSatisfy { $0.mobile == nil && $0.userID == nil })
        let (payload, robotID) = try await store.writer.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT payload, robot_id FROM outbox")!
            return (String(decoding: row["payload"] as Data, as: UTF8.self), row["robot_id"] as String)
        }
        #expect(payload.contains("\"v\":2"), "rewritten as the current version: \(payload)")
        #expect(!payload.contains("key-g1-5c0ffee") && !payload.contains("13900000009") && !payload.contains("wx-g1"), "\(payload)")
        #expect(!robotID.contains("key-g1-5c0ffee"), "\(robotID)")
    }

    @Test func aPayloadKeepsItsVersionAndOnlyMemberIDs() throws {
        let group = GroupBinding(platform: "dingtalk", chat: "cid-1", credentials: ["robot_token": "tok-secret", "robot_secret": "SEC-x"], robot: "r-1234")
        let message = OutboundMessage(
            key: "k", unitID: "c1", group: group, text: "通知",
            mentions: [Mention(memberID: "m-1", name: "张三", userID: "staff-1", mobile: "13800000001")], priority: .urgent)
        let data = try OutboxPayload.encode(message)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"v\":2"))
        for secret in ["tok-secret", "SEC-x", "13800000001", "staff-1", "张三"] { #expect(!text.contains(secret), "\(secret) in \(text)") }
        let back = try #require(OutboxPayload.decode(data))
        #expect(back.group.robotID == "dingtalk:r-1234" && back.mentions.map(\.memberID) == ["m-1"] && back.priority == .urgent)
    }

    /// Payloads are written by `OutJSON` and read by the `FlatJSON` fast path (issue 16): the bytes are what
    /// JSONEncoder wrote (keys sorted), and both readers yield the same payload, whatever the text holds.
    @Test func theFastWriterAndReaderAgreeWithFoundationsJSON() throws {
        let texts = ["通知", "", "line\nbreak \"quoted\" back\\slash /slash\t\u{1}\u{7f}", "\"\u{301}combining after a quote", "emoji 👍🏽 and \u{2028}\u{2029}", "a\rb\u{8}\u{c}"]
        for (index, text) in texts.enumerated() {
            let message = OutboundMessage(
                key: "k\(index)", unitID: "c1", group: GroupBinding(platform: "generic", chat: "chat \"\(index)\"", robot: "r/\(index)"), text: text,
                mentions: index % 2 == 0 ? [] : [Mention(memberID: "m-1", name: "", userID: nil, mobile: nil), Mention(memberID: "m\"2", name: "", userID: nil, mobile: nil)],
                priority: index % 2 == 0 ? .routine : .urgent, markdown: index % 3 == 0)
            let data = try OutboxPayload.encode(message)
            let foundation = try JSONDecoder().decode(OutboxPayload.self, from: data)
            let fast = try #require(OutboxPayload(flat: data), "\(String(decoding: data, as: UTF8.self))")
            #expect(fast == foundation && fast == OutboxPayload(message))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let viaFoundation = try JSONDecoder().decode(OutboxPayload.self, from: try encoder.encode(OutboxPayload(message)))
            #expect(viaFoundation == fast)
        }
        // A payload JSONEncoder wrote (the rows of earlier builds) still reads through the fast path.
        let old = try JSONEncoder().encode(OutboxPayload(OutboundMessage(key: "k", unitID: "u", group: GroupBinding(platform: "wecom", chat: "c"), text: "t/\\")))
        #expect(OutboxPayload(flat: old) == (try JSONDecoder().decode(OutboxPayload.self, from: old)))
    }

    @Test func aPayloadOfALaterVersionIsNotGuessedAt() {
        #expect(OutboxPayload.decode(Data(#"{"v":3,"key":"k"}"#.utf8)) == nil)
        #expect(OutboxPayload.decode(Data("not json".utf8)) == nil)
    }

    @Test func theDatabaseFileAndItsWALAndSHMAreOwnerOnly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mode-\(UUID().uuidString)/data")
        let path = folder.appendingPathComponent("bot.sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.write { tx in try tx.markProcessed(1, at: Date()) }
        for file in [path, path + "-wal", path + "-shm"] {
            let mode = try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "\(file) has mode \(String(mode, radix: 8))")
        }
        let folderMode = try #require(FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int)
        #expect(folderMode & 0o077 == 0)
    }
}
