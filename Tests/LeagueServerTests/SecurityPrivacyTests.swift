import Foundation
import GRDB
import LeagueCore
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Testing

/// Issue 11 point 5 through the chat path: personal data of young people is refused, not kept and
/// not relayed; refusals are limited per sender; small counts cannot be subtracted out.
@Suite(.serialized)
struct SecurityPrivacyTests {
    static let idNumber = "370802201003151236"

    func inboundTexts(_ bot: TestBot) async throws -> [String] {
        try await bot.store.writer.read { db in try String.fetchAll(db, sql: "SELECT text FROM inbound ORDER BY id") }
    }

    @Test func aTaskWithAnIDCardNumberIsRefusedNotStoredAndNotRelayed() async throws {
        let bot = try await TestBot.engine()
        let replies = try await bot.replies(to: "/任务 请核实 \(Self.idNumber) 的情况", in: "chat-d", from: "u-d")
        #expect(try await bot.store.rowCount("tasks") == 0)
        #expect(replies.count == 1 && replies[0].contains("身份证号码"), "\(replies)")
        #expect(try await bot.outbox().allSatisfy { !$0.text.contains(Self.idNumber) }, "nothing relayed")
        #expect(try await inboundTexts(bot) == [""], "the text is not kept")
        // Reports, closing notes, meeting items and demands alike.
        _ = try await bot.replies(to: "/任务 上报人数", in: "chat-t1", from: "u-t1")
        for (text, chat, sender) in [
            ("/上报 孩子身份证 \(Self.idNumber)", "chat-c1", "u-c1"), ("/完成 T-1 \(Self.idNumber)", "chat-t1", "u-t1"),
            ("/诉求 帮助 \(Self.idNumber) 就学", "chat-c1", "u-c1"),
        ] {
            let answer = try await bot.replies(to: text, in: chat, from: sender)
            #expect(answer.first?.contains("身份证号码") == true, "\(text): \(answer)")
        }
        #expect(try await bot.store.rowCount("tasks") == 1)
        #expect(try await inboundTexts(bot).allSatisfy { !$0.contains(Self.idNumber) })
    }

    @Test func aMobileNumberInATaskReportDemandOrAgendaIsRefusedNotStoredAndNotRelayed() async throws {
        let bot = try await TestBot.engine()
        let replies = try await bot.replies(to: "/任务 有事请联系 138 0000 0000", in: "chat-d", from: "u-d")
        #expect(try await bot.store.rowCount("tasks") == 0, "nothing dispatched to the groups below")
        #expect(replies.count == 1 && replies[0].contains("手机号码") && !replies[0].contains("0000 0000"), "\(replies)")
        for (text, chat, sender) in [
            ("/上报 孩子家长电话13912345678", "chat-c1", "u-c1"), ("/诉求 帮助就学，联系 +86 139-1234-5678", "chat-c1", "u-c1"),
            ("/议程 @g1 家访，电话１３７１２３４５６７８", "chat-c1", "u-c1"), ("/任务 核对名单 0086 15012345678", "chat-t1", "u-t1"),
        ] {
            let answer = try await bot.replies(to: text, in: chat, from: sender)
            #expect(answer.first?.contains("手机号码") == true, "\(text): \(answer)")
        }
        // Text for the bot that is no command is not echoed in the syntax help, nor kept.
        let unknown = try await bot.replies(to: "/联系 家长 13800000000", in: "chat-c1", from: "u-c1")
        #expect(unknown.count == 1 && unknown[0].contains("手机号码") && !unknown[0].contains("13800000000"), "\(unknown)")
        #expect(try await bot.store.rowCount("tasks") == 0)
        #expect(try await bot.store.rowCount("demands") == 0)
        let digits = ["0000 0000", "13912345678", "1234-5678", "１２３４５６７８", "15012345678", "13800000000"]
        for message in try await bot.outbox() {
            #expect(digits.allSatisfy { !message.text.contains($0) }, "relayed: \(message.text)")
        }
        #expect(try await inboundTexts(bot).allSatisfy { text in digits.allSatisfy { !text.contains($0) } }, "the texts are not kept")
        // An ordinary task with numbers in it still goes out.
        _ = try await bot.replies(to: "/任务 今晚8点前上报 2026 年志愿者人数，热线 12355", in: "chat-d", from: "u-d")
        #expect(try await bot.store.rowCount("tasks") == 1)
    }

    @Test func plainChatKeepsNoMobileNorRegisteredNameInTheMinutes() async throws {
        let bot = try await TestBot.engine()
        try await bot.store.write { tx in
            try tx.replaceYouth(gridID: "g1", rows: [YouthRecord(gridID: "g1", name: "李小明", ageBand: .teen, status: .student, inDifficulty: true, category: "留守", contact: "m-g1")], at: Date())
        }
        // Outside a meeting plain chat goes nowhere: a mobile is not kept, and the bot stays quiet.
        #expect(try await bot.replies(to: "我的手机 13800000000", in: "chat-c1", from: "u-c1").isEmpty)
        _ = try await bot.replies(to: "/议事 开始 十一月议事", in: "chat-c1", from: "u-c1")
        let mobile = try await bot.replies(to: "王老师电话 139-1234-5678", in: "chat-c1", from: "u-c1")
        #expect(mobile.count == 1 && mobile[0].contains("手机号码") && mobile[0].contains("没有记入议事纪要"), "\(mobile)")
        let name = try await bot.replies(to: "李小明最近没去上学", in: "chat-c1", from: "u-c1")
        #expect(name.count == 1 && name[0].contains("没有记入议事纪要"), "\(name)")
        #expect(try await bot.replies(to: "路灯坏了三盏", in: "chat-c1", from: "u-c1").isEmpty)
        let ended = try await bot.replies(to: "/议事 结束", in: "chat-c1", from: "u-c1")
        #expect(ended.allSatisfy { !$0.contains("1391234") && !$0.contains("李小明") })
        let minutes = try await bot.store.snapshot { try $0.minutes(unitIDs: ["c1"], month: nil) }
        let transcript = minutes.flatMap(\.transcript).map(\.text)
        #expect(transcript.contains("路灯坏了三盏"), "\(transcript)")
        #expect(!transcript.contains(""), "a line not kept leaves no empty line in the minutes: \(transcript)")
        #expect(transcript.allSatisfy { !$0.contains("1234-5678") && !$0.contains("李小明") }, "\(transcript)")
        let kept = try await inboundTexts(bot)
        for needle in ["13800000000", "1234-5678", "李小明"] {
            #expect(kept.allSatisfy { !$0.contains(needle) }, "\(needle) is in the inbound store")
            #expect(try await bot.outbox().allSatisfy { !$0.text.contains(needle) }, "\(needle) was relayed")
        }
    }

    @Test func aMeetingNoteNamingARegisteredYoungPersonIsRefusedAndNotInTheMinutes() async throws {
        let bot = try await TestBot.engine()
        try await bot.store.write { tx in
            try tx.replaceYouth(gridID: "g1", rows: [YouthRecord(gridID: "g1", name: "李小明", ageBand: .teen, status: .student, inDifficulty: true, category: "留守", contact: "m-g1")], at: Date())
        }
        _ = try await bot.replies(to: "/议事 开始 十一月议事", in: "chat-c1", from: "u-c1")
        let replies = try await bot.replies(to: "/记录 李小明家里需要帮扶", in: "chat-c1", from: "u-c1")
        #expect(replies.first?.contains("青少年登记名单") == true, "\(replies)")
        let ended = try await bot.replies(to: "/议事 结束", in: "chat-c1", from: "u-c1")
        #expect(ended.allSatisfy { !$0.contains("李小明") })
        #expect(try await inboundTexts(bot).allSatisfy { !$0.contains("李小明") })
        let minutes = try await bot.store.writer.read { db in try String.fetchAll(db, sql: "SELECT CAST(data AS TEXT) FROM events") }
        #expect(minutes.allSatisfy { !$0.contains("李小明") })
    }

    @Test func refusalsAreLimitedPerSenderSoTheScreenCannotProbeTheRegistry() async throws {
        let bot = try await TestBot.engine()
        try await bot.store.write { tx in
            try tx.replaceYouth(gridID: "g1", rows: [YouthRecord(gridID: "g1", name: "王小红", ageBand: .child, status: .student, inDifficulty: false, category: "", contact: "m-g1")], at: Date())
        }
        for _ in 0..<5 { _ = try await bot.replies(to: "/任务 王小红 的情况", in: "chat-c1", from: "u-c1") }
        // Over the limit, even a harmless text gets the same answer: no more signal about names.
        let probe = try await bot.replies(to: "/任务 张大伟 的情况", in: "chat-c1", from: "u-c1")
        #expect(probe.first?.contains("稍后再试") == true, "\(probe)")
        #expect(try await bot.store.rowCount("tasks") == 0)
        // Another sender is not affected.
        _ = try await bot.replies(to: "/任务 上报人数", in: "chat-t1", from: "u-t1")
        #expect(try await bot.store.rowCount("tasks") == 1)
    }

    @Test func aSmallAgeBandCannotBeRecoveredBySubtractingFromTheTotal() async throws {
        let bot = try await TestBot.engine()
        var rows: [YouthRecord] = []
        for i in 0..<2 { rows.append(YouthRecord(gridID: "g1", name: "甲\(i)号", ageBand: .child, status: .student, inDifficulty: false, category: "", contact: "m-g1")) }
        for i in 0..<12 { rows.append(YouthRecord(gridID: "g1", name: "乙\(i)号", ageBand: .teen, status: .student, inDifficulty: false, category: "", contact: "m-g1")) }
        for i in 0..<26 { rows.append(YouthRecord(gridID: "g1", name: "丙\(i)号", ageBand: .young, status: .student, inDifficulty: false, category: "", contact: "m-g1")) }
        let all = rows
        try await bot.store.write { tx in try tx.replaceYouth(gridID: "g1", rows: all, at: Date()) }
        let replies = try await bot.replies(to: "/查询 青少年", in: "chat-d", from: "u-d")
        let answer = try #require(replies.first)
        #expect(answer.contains("合计 40"), "\(answer)")
        let ageLine = try #require(answer.split(separator: "\n").first { $0.hasPrefix("年龄段") })
        #expect(ageLine.contains("<"), "\(ageLine)")
        #expect(!ageLine.contains(" 12"), "a second band is hidden so 40 minus the rest does not give the small one: \(ageLine)")
    }
}
