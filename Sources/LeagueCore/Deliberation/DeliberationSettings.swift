import Foundation

/// A wall-clock time of day in the bot's time zone: `08:30`, `23:59:59`.
public struct TimeOfDay: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(_ hour: Int, _ minute: Int, _ second: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// Parses `HH:MM` or `HH:MM:SS` (hour 0–23); nil for anything else.
    public init?(text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
            parts.allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == parts.count, (0...23).contains(numbers[0]), (0...59).contains(numbers[1]) else { return nil }
        let second = numbers.count == 3 ? numbers[2] : 0
        guard (0...59).contains(second) else { return nil }
        self.init(numbers[0], numbers[1], second)
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool {
        (lhs.hour, lhs.minute, lhs.second) < (rhs.hour, rhs.minute, rhs.second)
    }

    /// `08:30` (seconds only when not zero).
    public var description: String {
        second == 0 ? String(format: "%02d:%02d", hour, minute) : String(format: "%02d:%02d:%02d", hour, minute, second)
    }
}

/// The deliberation-day schedule (`deliberation:` in leagueops.yaml).
public struct DeliberationSettings: Sendable, Hashable {
    /// Day of the month (1–31; clamped to the month's last day in shorter months).
    public var day = 9
    /// The day's reminder with the agenda and the visiting checklist.
    public var remindAt = TimeOfDay(8, 30)
    /// The eve's reminder with the agenda collected so far.
    public var eveRemindAt = TimeOfDay(18, 0)
    /// When groups without minutes are reported to their supervisors.
    public var minutesDue = TimeOfDay(23, 59)
    /// Tiers whose groups hold a deliberation day.
    public var tiers = ["grid", "community"]
    public var timeZone: TimeZone
    /// A meeting left open is closed after this many seconds.
    public var autoCloseSeconds: Double = 4 * 3600
    /// The visiting checklist of the day's reminder, one line each.
    public var checklist = DeliberationSettings.defaultChecklist
    /// Key for the signed minutes links (`/minutes/...?sig=`); nil means a random key kept in the store.
    public var linkSecret: String?
    /// How long a minutes link works, in seconds (`deliberation.link_ttl`, default 7 days).
    public var linkTTLSeconds: Double = 7 * 86400

    /// The default checklist, from the 9th-day practice: visit key people, enterprises and organisations, collect demands.
    public static let defaultChecklist = [
        "走访网格内重点人群（困境青少年、独居老人、新就业形态青年等），了解近况",
        "走访重点企业，了解用工、青年人才需求",
        "走访重点组织（“两新”组织、青年社会组织、商户），对接服务资源",
        "收集民意诉求，用 /诉求 内容 逐条登记",
        "召开（或线上组织）青年议事会，用 /议事 开始 记录纪要",
    ]

    /// The 9th-day practice's defaults, in `timeZone`; set the other properties as configured.
    public init(timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!) { self.timeZone = timeZone }

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The one rule for who owes minutes each month: a unit of a deliberation tier (`tiers`). /纪要,
    /// /查询 纪要, the dashboard's minutes page and the missing-minutes follow-up all count with it.
    public func owesMinutes(_ unit: OrgUnit) -> Bool { tiers.contains(unit.tier) }

    /// The units of `unitID`'s subtree, itself included, that owe minutes.
    public func unitsOwingMinutes(in org: OrgTree, under unitID: String) -> [OrgUnit] {
        ((org.unit(unitID).map { [$0] } ?? []) + org.descendants(of: unitID)).filter(owesMinutes)
    }
}

/// A calendar month, the unit of the deliberation cycle: `2026-11`.
public struct DeliberationMonth: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int

    public init(year: Int, month: Int) {
        self.year = year + (month - 1).floorDiv(12)
        self.month = (month - 1).floorMod(12) + 1
    }

    /// Parses `2026-11`, `2026-1`, `202611`; nil otherwise.
    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "-")
        let year: Int?, month: Int?
        if parts.count == 2 {
            year = parts[0].count == 4 ? Int(parts[0]) : nil
            month = parts[1].count <= 2 ? Int(parts[1]) : nil
        } else if trimmed.count == 6, trimmed.allSatisfy(\.isNumber) {
            year = Int(trimmed.prefix(4))
            month = Int(trimmed.suffix(2))
        } else {
            return nil
        }
        guard let year, let month, (1...12).contains(month), (1970...9999).contains(year) else { return nil }
        self.init(year: year, month: month)
    }

    /// The one month parser of every command, page and CLI option that takes a month: `2026-11`,
    /// `2026-1`, `202611`, `2026/11`, `2026年11月`, and `11月` or `11` for that month of the current
    /// year (in `timeZone` at `now`). Nil for anything else (a unit name, a state).
    public static func parse(_ word: String, now: Date, timeZone: TimeZone) -> DeliberationMonth? {
        var text = word.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "/", with: "-")
        if text.hasSuffix("月") { text = String(text.dropLast()) }
        text = text.replacingOccurrences(of: "年", with: "-")
        if let month = DeliberationMonth(text: text) { return month }
        guard (1...2).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(text), (1...12).contains(number) else {
            return nil
        }
        return DeliberationMonth(year: DeliberationMonth(containing: now, timeZone: timeZone).year, month: number)
    }

    /// The month a moment falls in, in a time zone.
    public init(containing date: Date, timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month], from: date)
        self.init(year: parts.year ?? 1970, month: parts.month ?? 1)
    }

    public var next: DeliberationMonth { DeliberationMonth(year: year, month: month + 1) }
    public var previous: DeliberationMonth { DeliberationMonth(year: year, month: month - 1) }
    public var description: String { String(format: "%04d-%02d", year, month) }

    public static func < (lhs: DeliberationMonth, rhs: DeliberationMonth) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }
}

extension Int {
    fileprivate func floorDiv(_ divisor: Int) -> Int { Int((Double(self) / Double(divisor)).rounded(.down)) }
    fileprivate func floorMod(_ divisor: Int) -> Int { ((self % divisor) + divisor) % divisor }
}

/// The three moments of one month's deliberation day.
public enum DeliberationPhase: Int, Sendable, Hashable, Codable, CaseIterable {
    /// The evening before: the agenda so far.
    case eve = 0
    /// The morning of the day: agenda, checklist, open items.
    case day = 1
    /// The minutes deadline: missing minutes go to the supervisors.
    case due = 2

    public var key: String {
        switch self {
        case .eve: return "eve"
        case .day: return "day"
        case .due: return "due"
        }
    }

    /// The event written when this phase's timer fires.
    public var eventKind: EventKind {
        switch self {
        case .eve: return .deliberationEve
        case .day: return .deliberationDay
        case .due: return .deliberationDue
        }
    }
}

/// The instants of one month's deliberation day.
public struct DeliberationDay: Sendable, Hashable {
    public var month: DeliberationMonth
    /// The day of the month actually used (the configured day clamped to the month's length).
    public var dayOfMonth: Int
    public var eve: Date
    public var day: Date
    public var due: Date

    public func instant(_ phase: DeliberationPhase) -> Date {
        switch phase {
        case .eve: return eve
        case .day: return day
        case .due: return due
        }
    }
}

/// The pure schedule: which instants belong to which month, which timers to set, which are still worth firing.
public enum DeliberationSchedule {
    /// The timer kind the engine dispatches deliberation reminders on.
    public static let timerKind = TimerKind.deliberation

    /// The deliberation day of a month: the configured day (clamped to the month's last day) at the
    /// configured times, the eve one calendar day earlier (across a month boundary when the day is the 1st).
    public static func day(of month: DeliberationMonth, settings: DeliberationSettings) -> DeliberationDay {
        let calendar = settings.calendar
        let first = calendar.date(from: DateComponents(year: month.year, month: month.month, day: 1, hour: 12))!
        let length = calendar.range(of: .day, in: .month, for: first)?.count ?? 28
        let dayOfMonth = min(max(settings.day, 1), length)
        func at(_ time: TimeOfDay, dayOffset: Int) -> Date {
            var parts = DateComponents(year: month.year, month: month.month, day: dayOfMonth)
            parts.hour = 12
            let noon = calendar.date(from: parts)!
            let shifted = calendar.date(byAdding: .day, value: dayOffset, to: noon)!
            let ymd = calendar.dateComponents([.year, .month, .day], from: shifted)
            return calendar.date(
                from: DateComponents(
                    year: ymd.year, month: ymd.month, day: ymd.day,
                    hour: time.hour, minute: time.minute, second: time.second))!
        }
        return DeliberationDay(
            month: month, dayOfMonth: dayOfMonth, eve: at(settings.eveRemindAt, dayOffset: -1),
            day: at(settings.remindAt, dayOffset: 0), due: at(settings.minutesDue, dayOffset: 0))
    }

    /// The timer of one phase of a month: key `delib:2026-11:eve`.
    public static func timer(_ phase: DeliberationPhase, of month: DeliberationMonth, settings: DeliberationSettings) -> TimerEntry {
        TimerEntry(
            key: "delib:\(month):\(phase.key)", dueAt: day(of: month, settings: settings).instant(phase),
            kind: timerKind, subject: month.description, step: phase.rawValue)
    }

    /// True when a phase firing at `now` should still send its messages. A reminder (eve, day) only
    /// on the same calendar day (bot time zone) as it was due — one missed by a whole day is dropped.
    /// The missing-minutes summary (due at 23:59) is still worth sending after a restart past
    /// midnight: for `missingSummaryGrace` (7 days) after it was due; it names the day it covers.
    /// Nothing fires before its time.
    public static func isRelevant(_ phase: DeliberationPhase, of month: DeliberationMonth, at now: Date, settings: DeliberationSettings) -> Bool {
        let due = day(of: month, settings: settings).instant(phase)
        guard now >= due else { return false }
        if phase == .due { return now.timeIntervalSince(due) < missingSummaryGrace }
        return settings.calendar.isDate(now, inSameDayAs: due)
    }

    /// How long after its time the missing-minutes summary is still sent (a restart, a backlog).
    public static let missingSummaryGrace: Double = 7 * 86_400

    /// The timers that should exist at `now`: this month's and next month's phases that are still
    /// ahead or still relevant. Scheduling is idempotent by key, so calling this again never adds a
    /// timer that already fired.
    public static func timers(at now: Date, settings: DeliberationSettings) -> [TimerEntry] {
        let current = DeliberationMonth(containing: now, timeZone: settings.timeZone)
        var result: [TimerEntry] = []
        // The next month covers an eve that falls on this month's last day (a deliberation day on the 1st).
        for month in [current, current.next] {
            for phase in DeliberationPhase.allCases {
                let timer = timer(phase, of: month, settings: settings)
                // Scheduled while ahead or due today; a missing-minutes summary scheduled before it came due
                // still fires later (see `isRelevant`), but one never scheduled is not added days late.
                if timer.dueAt > now || settings.calendar.isDate(now, inSameDayAs: timer.dueAt) { result.append(timer) }
            }
        }
        return result
    }

    /// The month whose deliberation day an agenda item added at `now` is for: this month's until
    /// the day is over, the next month's afterwards.
    public static func agendaMonth(at now: Date, settings: DeliberationSettings) -> DeliberationMonth {
        let current = DeliberationMonth(containing: now, timeZone: settings.timeZone)
        let calendar = settings.calendar
        let today = calendar.startOfDay(for: now)
        let thisDay = calendar.startOfDay(for: day(of: current, settings: settings).day)
        return today <= thisDay ? current : current.next
    }

    /// `11月9日` / `Nov 9`.
    public static func dateText(_ day: DeliberationDay, language: Language) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return language.pick("\(day.month.month)月\(day.dayOfMonth)日", "\(months[day.month.month - 1]) \(day.dayOfMonth)")
    }
}
