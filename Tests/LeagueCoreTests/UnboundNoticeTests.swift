import Foundation
import LeagueCore
import Testing

@Suite struct UnboundNoticeTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func weeklyTimesAreReadInEnglishAndChinese() {
        #expect(WeeklyTime(text: "mon 09:00") == WeeklyTime(weekday: 1, hour: 9, minute: 0))
        #expect(WeeklyTime(text: "Friday 17:30") == WeeklyTime(weekday: 5, hour: 17, minute: 30))
        #expect(WeeklyTime(text: "周日 08:05") == WeeklyTime(weekday: 7, hour: 8, minute: 5))
        #expect(WeeklyTime(text: "mon 9") == nil && WeeklyTime(text: "someday 09:00") == nil && WeeklyTime(text: "mon 24:00") == nil)
        #expect(WeeklyTime(weekday: 1, hour: 9, minute: 0).description == "mon 09:00")
    }

    @Test func theTimerOfAWeekIsItsWeekdayAtTheTimeInTheBotsZone() {
        let monday9 = WeeklyTime(weekday: 1, hour: 9, minute: 0)
        // Sunday 2026-12-06 23:30 in Shanghai is still ISO week 49, whose Monday was 2026-11-30.
        let sunday = Self.at("2026-12-06T15:30:00Z")
        let timer = UnboundNotice.timer(inWeekOf: sunday, at: monday9, timeZone: Self.shanghai)
        #expect(timer.key == "onboard-unbound:2026-W49" && timer.subject == "2026-W49" && timer.kind == UnboundNotice.timerKind)
        #expect(timer.dueAt == Self.at("2026-11-30T01:00:00Z"))
        // Across the year: 2026 has 53 ISO weeks; 2027-01-01 (a Friday) is in 2026-W53.
        #expect(UnboundNotice.week(containing: Self.at("2027-01-01T04:00:00Z"), timeZone: Self.shanghai) == "2026-W53")
        #expect(UnboundNotice.week(containing: Self.at("2027-01-04T04:00:00Z"), timeZone: Self.shanghai) == "2027-W01")
    }

    @Test func thisWeeksTimerIsScheduledOnlyWhileAheadOrWithinADay() {
        let monday9 = WeeklyTime(weekday: 1, hour: 9, minute: 0)
        let before = UnboundNotice.timers(at: Self.at("2026-11-30T00:00:00Z"), at: monday9, timeZone: Self.shanghai)
        #expect(before.map(\.subject) == ["2026-W49", "2026-W50"])
        let soonAfter = UnboundNotice.timers(at: Self.at("2026-11-30T05:00:00Z"), at: monday9, timeZone: Self.shanghai)
        #expect(soonAfter.map(\.subject) == ["2026-W49", "2026-W50"])
        let daysAfter = UnboundNotice.timers(at: Self.at("2026-12-03T05:00:00Z"), at: monday9, timeZone: Self.shanghai)
        #expect(daysAfter.map(\.subject) == ["2026-W50"])
        let due = Self.at("2026-11-30T01:00:00Z")
        #expect(!UnboundNotice.isRelevant(due: due, at: due.addingTimeInterval(-1)))
        #expect(UnboundNotice.isRelevant(due: due, at: due.addingTimeInterval(3600)))
        #expect(!UnboundNotice.isRelevant(due: due, at: due.addingTimeInterval(UnboundNotice.grace)))
    }

    @Test func eachBoundGroupIsToldOfTheUnboundUnitsItChases() {
        // d › t1 (bound) › c1 (bound) › g1 (bound), g2, g3 (unbound); d › t2 (unbound) › c2 (unbound) › g4 (unbound)
        let org = OrgTree(units: [
            testUnit("d", "测试区", "district", nil),
            testUnit("t1", "第一街道", "town", "d"),
            testUnit("c1", "解放路社区", "community", "t1"),
            testUnit("g1", "第1网格", "grid", "c1"),
            testUnit("g2", "第2网格", "grid", "c1", bound: false),
            testUnit("g3", "第3网格", "grid", "c1", bound: false),
            testUnit("t2", "第二街道", "town", "d", bound: false),
            testUnit("c2", "新村社区", "community", "t2", bound: false),
            testUnit("g4", "第4网格", "grid", "c2", bound: false),
        ])
        let notices = UnboundNotice.notices(org, language: .zh)
        let byUnit = Dictionary(uniqueKeysWithValues: notices.map { ($0.unit.id, $0) })
        #expect(Set(byUnit.keys) == ["d", "t1", "c1"], "g1 has nothing below it")
        #expect(byUnit["c1"]?.chased == ["g2", "g3"] && byUnit["c1"]?.unboundBelow == 2)
        #expect(byUnit["c1"]?.text.contains("· 第2网格") == true && byUnit["c1"]?.text.contains("/绑定") == true)
        #expect(byUnit["t1"]?.chased == [] && byUnit["t1"]?.text.contains("另有 2 个单位由其已绑定的上级群督促") == true)
        #expect(byUnit["d"]?.unboundBelow == 5 && byUnit["d"]?.chased == ["t2", "c2", "g4"])
        #expect(byUnit["d"]?.text.contains("· 第二街道 › 新村社区 › 第4网格") == true)
        #expect(UnboundNotice.notices(org, language: .en).first { $0.unit.id == "c1" }?.text.contains("/bind CODE") == true)
        // Everything bound: no notice at all.
        let allBound = OrgTree(
            units: org.units.map {
                var unit = $0; unit.group = GroupBinding(platform: "generic", chat: "chat-\(unit.id)"); return unit
            })
        #expect(UnboundNotice.notices(allBound, language: .zh).isEmpty)
    }
}
