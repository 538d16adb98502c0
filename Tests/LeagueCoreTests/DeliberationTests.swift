import Foundation
import LeagueCore
import Testing

/// 2026-11-09T08:30:00+08:00 style instants, written in UTC.
private func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

private let shanghai = TimeZone(identifier: "Asia/Shanghai")!

struct DeliberationScheduleTests {
    let settings = DeliberationSettings(timeZone: shanghai)

    @Test func instantsAreInTheBotTimeZoneNotTheServerClock() {
        let day = DeliberationSchedule.day(of: DeliberationMonth(year: 2026, month: 11), settings: settings)
        #expect(day.eve == utc("2026-11-08T10:00:00Z"))  // 18:00 in Shanghai
        #expect(day.day == utc("2026-11-09T00:30:00Z"))  // 08:30 in Shanghai
        #expect(day.due == utc("2026-11-09T15:59:00Z"))  // 23:59 in Shanghai
    }

    @Test func eveCrossesTheMonthBoundaryAndShortMonthsClampTheDay() {
        var first = settings
        first.day = 1
        let march = DeliberationSchedule.day(of: DeliberationMonth(year: 2026, month: 3), settings: first)
        #expect(march.eve == utc("2026-02-28T10:00:00Z"), "the eve of March 1st is February 28th")
        var last = settings
        last.day = 31
        let february = DeliberationSchedule.day(of: DeliberationMonth(year: 2028, month: 2), settings: last)
        #expect(february.dayOfMonth == 29, "leap February")
        #expect(february.day == utc("2028-02-29T00:30:00Z"))
        let april = DeliberationSchedule.day(of: DeliberationMonth(year: 2026, month: 4), settings: last)
        #expect(april.dayOfMonth == 30)
        #expect(DeliberationMonth(year: 2026, month: 12).next.description == "2027-01")
        #expect(DeliberationMonth(year: 2027, month: 1).previous.description == "2026-12")
    }

    @Test func eveDayDueSequenceThenNextMonth() {
        let now = utc("2026-11-01T00:00:00Z")
        let timers = DeliberationSchedule.timers(at: now, settings: settings).sorted { $0.dueAt < $1.dueAt }
        #expect(
            timers.map(\.key) == [
                "delib:2026-11:eve", "delib:2026-11:day", "delib:2026-11:due",
                "delib:2026-12:eve", "delib:2026-12:day", "delib:2026-12:due",
            ])
        #expect(timers.allSatisfy { $0.kind == .deliberation })
        #expect(timers.map(\.step) == [0, 1, 2, 0, 1, 2])
        // After November's day is over, only December's (and January's) remain.
        let later = DeliberationSchedule.timers(at: utc("2026-11-10T02:00:00Z"), settings: settings).map(\.key)
        #expect(!later.contains { $0.hasPrefix("delib:2026-11") })
        #expect(later.contains("delib:2026-12:eve"))
    }

    @Test func aReminderMissedByAWholeDayIsNotSentButOneLateTheSameDayIs() {
        let november = DeliberationMonth(year: 2026, month: 11)
        // Bot down at 08:30, up at 10:00 the same day (Shanghai): still sent.
        #expect(DeliberationSchedule.isRelevant(.day, of: november, at: utc("2026-11-09T02:00:00Z"), settings: settings))
        // 00:30 on the 10th in Shanghai — still the 9th on a UTC server clock — is a day late: dropped.
        #expect(!DeliberationSchedule.isRelevant(.day, of: november, at: utc("2026-11-09T16:30:00Z"), settings: settings))
        #expect(!DeliberationSchedule.isRelevant(.eve, of: november, at: utc("2026-11-09T01:00:00Z"), settings: settings))
        // Never before its time, never for a past month.
        #expect(!DeliberationSchedule.isRelevant(.day, of: november, at: utc("2026-11-09T00:29:00Z"), settings: settings))
        #expect(!DeliberationSchedule.isRelevant(.due, of: november, at: utc("2026-12-09T15:59:30Z"), settings: settings))
    }

    @Test func agendaGoesToThisMonthUntilTheDayIsOver() {
        #expect(DeliberationSchedule.agendaMonth(at: utc("2026-11-09T15:00:00Z"), settings: settings).description == "2026-11")
        #expect(DeliberationSchedule.agendaMonth(at: utc("2026-11-09T16:30:00Z"), settings: settings).description == "2026-12")
        #expect(DeliberationSchedule.agendaMonth(at: utc("2026-12-20T00:00:00Z"), settings: settings).description == "2027-01")
    }

    @Test func timesParse() {
        #expect(TimeOfDay(text: "08:30") == TimeOfDay(8, 30))
        #expect(TimeOfDay(text: "23:59:59") == TimeOfDay(23, 59, 59))
        #expect(TimeOfDay(text: "24:00") == nil)
        #expect(TimeOfDay(text: "8h30") == nil)
        #expect(DeliberationMonth(text: "2026-13") == nil)
        #expect(DeliberationMonth(text: "202611")?.description == "2026-11")
    }
}

struct MeetingRecorderTests {
    let chair = MeetingPerson(memberID: "m-g1", name: "网格员一", unitID: "g1")
    let start = utc("2026-11-09T11:00:00Z")

    /// One event, with meetings closing themselves after an hour.
    func apply(_ event: MeetingRecorder.Event, to state: MeetingRecorder.State) throws -> MeetingRecorder.Transition {
        try MeetingRecorder.apply(event, to: state, autoCloseSeconds: 3600)
    }

    func opened() throws -> MeetingRecorder.State {
        try apply(.open(id: 1, unitID: "g1", unitName: "第1网格", month: "2026-11", title: "11月议事会", by: chair, at: start, inbound: 5), to: .idle).state
    }

    @Test func aMeetingProducesTheExpectedMinutes() throws {
        var state = try opened()
        let owner = MeetingPerson(memberID: "m-g2", name: "网格员二", unitID: "g2")
        let marks: [MeetingItem] = [
            MeetingItem(kind: .note, text: "开场", by: chair, at: start),
            MeetingItem(kind: .topic, text: "暑托班场地", by: chair, at: start.addingTimeInterval(60)),
            MeetingItem(kind: .agreed, text: "设在青年之家", by: chair, at: start.addingTimeInterval(120)),
            MeetingItem(kind: .action, text: "周五前确认", by: chair, at: start.addingTimeInterval(180), owner: owner, taskID: 7),
            MeetingItem(kind: .demand, text: "路灯不亮", by: chair, at: start.addingTimeInterval(200), demandRef: "D-2"),
        ]
        for item in marks { state = try apply(.mark(item), to: state).state }
        let lines = [TranscriptLine(at: start, speaker: "网格员一", text: "/议事 开始 11月议事会")]
        let closed = try apply(.close(by: chair, at: start.addingTimeInterval(600), transcript: lines), to: state)
        let minutes = try #require(closed.minutes)
        #expect(minutes.items.map(\.kind) == [.note, .topic, .agreed, .action, .demand])
        #expect(minutes.items[0].topic == nil)
        #expect(minutes.items[2].topic == "暑托班场地", "items belong to the topic open when marked")
        #expect(minutes.items(.action).first?.owner?.name == "网格员二")
        #expect(minutes.closedAt == start.addingTimeInterval(600))
        #expect(!minutes.autoClosed)
        #expect(minutes.transcript == lines)
        let summary = MeetingRecorder.summary(minutes, language: .zh, format: TimeFormat(timeZone: shanghai))
        #expect(summary.contains("「11月议事会」已结束（19:00–19:10"))
        #expect(summary.contains("T-7 网格员二：周五前确认"))
        #expect(summary.contains("D-2 路灯不亮"))
        #expect(summary.contains("1. 设在青年之家"))
    }

    @Test func marksNeedAnOpenMeetingAndOnlyOneOpensAtATime() throws {
        #expect(throws: Refusal.self) {
            try MeetingRecorder.apply(.mark(MeetingItem(kind: .note, text: "x", by: chair, at: start)), to: .idle, autoCloseSeconds: 60)
        }
        #expect(throws: Refusal.self) {
            try MeetingRecorder.apply(.open(id: 2, unitID: "g1", unitName: "", month: "", title: "", by: chair, at: start, inbound: 1), to: try opened(), autoCloseSeconds: 60)
        }
    }

    @Test func autoCloseAppliesOnlyAfterItsTimeAndToItsMeeting() throws {
        let state = try opened()
        let early = try apply(.autoClose(id: 1, at: start.addingTimeInterval(3599), transcript: []), to: state)
        #expect(early.minutes == nil)
        let other = try apply(.autoClose(id: 9, at: start.addingTimeInterval(7200), transcript: []), to: state)
        #expect(other.minutes == nil)
        let closed = try apply(.autoClose(id: 1, at: start.addingTimeInterval(3600), transcript: []), to: state)
        #expect(closed.minutes?.autoClosed == true)
        #expect(MeetingRecorder.summary(try #require(closed.minutes), language: .en, format: TimeFormat(timeZone: shanghai)).contains("closed automatically"))
    }

    @Test func markdownAndHTMLCarryTheContentAndEscapeIt() throws {
        var state = try opened()
        state = try apply(.mark(MeetingItem(kind: .agreed, text: "<script>alert('x')</script> & [link](http://evil)", by: chair, at: start)), to: state).state
        let transcript = [TranscriptLine(at: start, speaker: "网格员一", text: "# 大家好\n第二行")]
        let minutes = try #require(try apply(.close(by: chair, at: start.addingTimeInterval(60), transcript: transcript), to: state).minutes)
        let renderer = MinutesRenderer(language: .zh, timeZone: shanghai)
        let html = renderer.html([minutes], title: "第1网格 2026-11 议事纪要")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<title>第1网格 2026-11 议事纪要</title>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; [link](http://evil)"))
        #expect(!html.contains("<script>"))
        #expect(html.contains("<h3>决议</h3>"))
        #expect(html.contains("<td class=\"who\">网格员一</td>"))
        let markdown = renderer.markdown([minutes], title: "第1网格 2026-11 议事纪要")
        #expect(markdown.hasPrefix("# 第1网格 2026-11 议事纪要\n"))
        #expect(markdown.contains("### 决议\n\n- \\<script\\>alert('x')\\</script\\> & \\[link\\](http://evil)\n"))
        #expect(markdown.contains("**网格员一**: \\# 大家好 第二行"), "chat text cannot start a heading or break the list")
        #expect(markdown.contains("时间：2026-11-09 19:00–19:01"))
    }
}
