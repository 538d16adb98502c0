import Foundation
import GRDB
import LeagueCore
import LeagueServer
import LeagueStore
import Testing

/// Issue 11 point 5 through the chat path: personal data of young people is refused, not kept and
/// not relayed; refusals are limited per sender; small counts cannot be subtracted out.
@Suite(.serialized)
struct SecurityPrivacyTests {
    static let idNumber = "370802201003151236"

    func inboundTexts(_ rig: SecurityRig) async throws -> [String] {
        try await rig.store.writer.read { db in try String.fetchAll(db, sql: "SELECT text FROM inbound ORDER BY id") }
    }

    @Test func aTaskWithAnIDCardNumberIsRefusedNotStoredAndNotRelayed() async throws {
        var rig = try SecurityRig()
        let replies = try await rig.say("/任务 请核实 \(Self.idNumber) 的情况", in: "chat-d", from: "u-d")
        #expect(try await rig.taskCount() == 0)
        #expect(replies.count == 1 && replies[0].contains("身份证号码"), "\(replies)")
        #expect(try await rig.outbox().allSatisfy { !$0.text.contains(Self.idNumber) }, "nothing relayed")
        #expect(try await inboundTexts(rig) == [""], "the text is not kept")
        // Reports, closing notes, meeting items and demands alike.
        _ = try await rig.say("/任务 上报人数", in: "chat-t1", from: "u-t1")
        for (text, chat, sender) in [("/上报 孩子身份证 \(Self.idNumber)", "chat-c1", "u-c1"), ("/完成 T-1 \(Self.idNumber)", "chat-t1", "u-t1"),
                                     ("/诉求 帮助 \(Self.idNumber) 就学", "chat-c1", "u-c1")] {
            let answer = try await rig.say(text, in: chat, from: sender)
            #expect(answer.first?.contains("身份证号码") == true, "\(text): \(answer)")
        }
        #expect(try await rig.taskCount() == 1)
        #expect(try await inboundTexts(rig).allSatisfy { !$0.contains(Self.idNumber) })
    }

    @Test func aMeetingNoteNamingARegisteredYoungPersonIsRefusedAndNotInTheMinutes() async throws {
        var rig = try SecurityRig()
        try await rig.store.write { tx in
            try tx.replaceYouth(gridID: "g1", rows: [YouthRecord(gridID: "g1", name: "李小明", ageBand: .teen, status: .student, inDifficulty: true, category: "留守", contact: "m-g1")], at: Date())
        }
        _ = try await rig.say("/议事 开始 十一月议事", in: "chat-c1", from: "u-c1")
        let replies = try await rig.say("/记录 李小明家里需要帮扶", in: "chat-c1", from: "u-c1")
        #expect(replies.first?.contains("青少年登记名单") == true, "\(replies)")
        let ended = try await rig.say("/议事 结束", in: "chat-c1", from: "u-c1")
        #expect(ended.allSatisfy { !$0.contains("李小明") })
        #expect(try await inboundTexts(rig).allSatisfy { !$0.contains("李小明") })
        let minutes = try await rig.store.writer.read { db in try String.fetchAll(db, sql: "SELECT CAST(data AS TEXT) FROM events") }
        #expect(minutes.allSatisfy { !$0.contains("李小明") })
    }

    @Test func refusalsAreLimitedPerSenderSoTheScreenCannotProbeTheRegistry() async throws {
        var rig = try SecurityRig()
        try await rig.store.write { tx in
            try tx.replaceYouth(gridID: "g1", rows: [YouthRecord(gridID: "g1", name: "王小红", ageBand: .child, status: .student, inDifficulty: false, category: "", contact: "m-g1")], at: Date())
        }
        for _ in 0..<5 { _ = try await rig.say("/任务 王小红 的情况", in: "chat-c1", from: "u-c1") }
        // Over the limit, even a harmless text gets the same answer: no more signal about names.
        let probe = try await rig.say("/任务 张大伟 的情况", in: "chat-c1", from: "u-c1")
        #expect(probe.first?.contains("稍后再试") == true, "\(probe)")
        #expect(try await rig.taskCount() == 0)
        // Another sender is not affected.
        _ = try await rig.say("/任务 上报人数", in: "chat-t1", from: "u-t1")
        #expect(try await rig.taskCount() == 1)
    }

    @Test func aSmallAgeBandCannotBeRecoveredBySubtractingFromTheTotal() async throws {
        var rig = try SecurityRig()
        var rows: [YouthRecord] = []
        for i in 0..<2 { rows.append(YouthRecord(gridID: "g1", name: "甲\(i)号", ageBand: .child, status: .student, inDifficulty: false, category: "", contact: "m-g1")) }
        for i in 0..<12 { rows.append(YouthRecord(gridID: "g1", name: "乙\(i)号", ageBand: .teen, status: .student, inDifficulty: false, category: "", contact: "m-g1")) }
        for i in 0..<26 { rows.append(YouthRecord(gridID: "g1", name: "丙\(i)号", ageBand: .young, status: .student, inDifficulty: false, category: "", contact: "m-g1")) }
        let all = rows
        try await rig.store.write { tx in try tx.replaceYouth(gridID: "g1", rows: all, at: Date()) }
        let replies = try await rig.say("/查询 青少年", in: "chat-d", from: "u-d")
        let answer = try #require(replies.first)
        #expect(answer.contains("合计 40"), "\(answer)")
        let ageLine = try #require(answer.split(separator: "\n").first { $0.hasPrefix("年龄段") })
        #expect(ageLine.contains("<"), "\(ageLine)")
        #expect(!ageLine.contains(" 12"), "a second band is hidden so 40 minus the rest does not give the small one: \(ageLine)")
    }
}

