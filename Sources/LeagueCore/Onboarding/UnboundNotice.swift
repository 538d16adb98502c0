import Foundation

/// A time in the week: `mon 09:00` (weekday 1 = Monday … 7 = Sunday, ISO order).
public struct WeeklyTime: Sendable, Hashable, CustomStringConvertible {
    public var weekday: Int
    public var hour: Int
    public var minute: Int

    public init(weekday: Int, hour: Int, minute: Int) {
        self.weekday = weekday
        self.hour = hour
        self.minute = minute
    }

    static let weekdayWords: [String: Int] = [
        "mon": 1, "monday": 1, "周一": 1, "星期一": 1, "tue": 2, "tuesday": 2, "周二": 2, "星期二": 2,
        "wed": 3, "wednesday": 3, "周三": 3, "星期三": 3, "thu": 4, "thursday": 4, "周四": 4, "星期四": 4,
        "fri": 5, "friday": 5, "周五": 5, "星期五": 5, "sat": 6, "saturday": 6, "周六": 6, "星期六": 6,
        "sun": 7, "sunday": 7, "周日": 7, "星期日": 7, "周天": 7, "星期天": 7,
    ]

    /// `mon 09:00`, `friday 17:30`, `周一 09:00`; nil when it is not one.
    public init?(text: String) {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 2, let day = Self.weekdayWords[words[0].lowercased()] else { return nil }
        let parts = words[1].split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        self.init(weekday: day, hour: hour, minute: minute)
    }

    public var description: String {
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        return "\(names[weekday - 1]) \(String(format: "%02d:%02d", hour, minute))"
    }
}

/// The weekly notice of units still without a bound group (`onboarding.unbound_notice`): a durable
/// timer per ISO week (`onboard-unbound:2026-W49`), so it fires once a week across restarts; the
/// notices are pure functions of the org.
public enum UnboundNotice {
    /// The timer kind the engine dispatches the notice on.
    public static let timerKind = TimerKind.unboundNotice
    /// A notice missed by more than this (the bot was down) is skipped; next week's comes as usual.
    public static let grace: Double = 86_400
    /// At most this many units are named in one notice (the rest are counted).
    public static let maxListed = 30

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        return calendar
    }

    /// `2026-W49`: the ISO week of `date` in the bot's time zone.
    public static func week(containing date: Date, timeZone: TimeZone) -> String {
        let parts = calendar(timeZone).dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", parts.yearForWeekOfYear ?? 0, parts.weekOfYear ?? 0)
    }

    /// The instant of the notice in the week containing `date`.
    public static func instant(inWeekOf date: Date, at time: WeeklyTime, timeZone: TimeZone) -> Date {
        let calendar = calendar(timeZone)
        let week = calendar.dateInterval(of: .weekOfYear, for: date)!.start  // Monday 00:00 (ISO)
        let noon = calendar.date(byAdding: .hour, value: 12, to: week)!
        let day = calendar.date(byAdding: .day, value: time.weekday - 1, to: noon)!
        let ymd = calendar.dateComponents([.year, .month, .day], from: day)
        return calendar.date(from: DateComponents(year: ymd.year, month: ymd.month, day: ymd.day, hour: time.hour, minute: time.minute))!
    }

    /// The timer of the week containing `date`.
    public static func timer(inWeekOf date: Date, at time: WeeklyTime, timeZone: TimeZone) -> TimerEntry {
        let week = week(containing: date, timeZone: timeZone)
        return TimerEntry(
            key: "onboard-unbound:\(week)", dueAt: instant(inWeekOf: date, at: time, timeZone: timeZone),
            kind: timerKind, subject: week, step: 0)
    }

    /// The timers that should exist at `now`: this week's while ahead or within `grace`, and next
    /// week's. Scheduling is idempotent by key, so a week's timer that fired is never added again.
    public static func timers(at now: Date, at time: WeeklyTime, timeZone: TimeZone) -> [TimerEntry] {
        let this = timer(inWeekOf: now, at: time, timeZone: timeZone)
        let next = timer(inWeekOf: calendar(timeZone).date(byAdding: .day, value: 7, to: now)!, at: time, timeZone: timeZone)
        return (isRelevant(due: this.dueAt, at: now) || this.dueAt > now ? [this] : []) + [next]
    }

    /// True when a notice due at `due` is still worth sending at `now`.
    public static func isRelevant(due: Date, at now: Date) -> Bool {
        now >= due && now.timeIntervalSince(due) < grace
    }

    /// One notice for a bound group: the units below it still without a group.
    public struct Notice: Sendable, Hashable {
        public var unit: OrgUnit
        public var text: String
        /// The units below it without a group, all of them.
        public var unboundBelow: Int
        /// Of those, the ones this group chases: no bound unit between them and it.
        public var chased: [String]
    }

    /// Every bound unit with unbound units below it gets a notice: how many, and by name (up to
    /// `maxListed`) those it chases itself — the ones with no bound unit in between; the rest are
    /// chased by the bound groups in between, which get their own notice. Nothing when every group is bound.
    public static func notices(_ org: OrgTree, language: Language) -> [Notice] {
        // The nearest bound ancestor of every unbound unit.
        var chasedBy: [String: [OrgUnit]] = [:]
        var below: [String: Int] = [:]
        for unit in org.units where unit.group == nil {
            var nearest: String?
            for ancestor in org.lineage(of: unit.id).dropFirst() where ancestor.group != nil {
                if nearest == nil { nearest = ancestor.id }
                below[ancestor.id, default: 0] += 1
            }
            if let nearest { chasedBy[nearest, default: []].append(unit) }
        }
        var result: [Notice] = []
        for unit in org.units where unit.group != nil {
            guard let count = below[unit.id], count > 0 else { continue }
            let chased = chasedBy[unit.id] ?? []
            func relativePath(_ id: String) -> String {
                let chain = org.lineage(of: id).reversed().drop { $0.id != unit.id }.dropFirst()
                return chain.map(\.name).joined(separator: " › ")
            }
            let l = language
            var lines = [
                l.pick(
                    "📋 每周绑定提醒：\(unit.name)以下还有 \(count) 个单位的工作群未绑定，收不到任务通知。",
                    "📋 Weekly binding reminder: \(count) unit(s) below \(unit.name) have no group bound yet and receive no task notices.")
            ]
            if !chased.isEmpty {
                lines.append(
                    l.pick(
                        "请督促以下单位的群管理员在群里发送“/绑定 绑定码”（绑定码向区团委索取）：",
                        "Please ask the group admins of these units to send “/bind CODE” in their group (codes from the district office):"))
                lines += chased.prefix(maxListed).map { "· \(relativePath($0.id))" }
                if chased.count > maxListed {
                    lines.append(l.pick("……另有 \(chased.count - maxListed) 个，发送 /查询 绑定 查看。", "… and \(chased.count - maxListed) more; send /query bindings for the figures."))
                }
            }
            if count > chased.count {
                lines.append(l.pick("另有 \(count - chased.count) 个单位由其已绑定的上级群督促（已分别提醒）。", "\(count - chased.count) more are chased by their bound groups in between (told separately)."))
            }
            result.append(Notice(unit: unit, text: lines.joined(separator: "\n"), unboundBelow: count, chased: chased.map(\.id)))
        }
        return result
    }
}
