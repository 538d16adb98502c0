import Foundation

/// Where a demand (诉求) is in its life: collected → published → claimed → in progress → resolved, or closed.
public enum DemandState: String, Sendable, Codable, Hashable, CaseIterable {
    case collected, published, claimed
    case inProgress = "in_progress"
    case resolved, closed

    public var isOpen: Bool { self != .resolved && self != .closed }

    public func name(_ language: Language) -> String {
        switch self {
        case .collected: return language.pick("已收集", "collected")
        case .published: return language.pick("已发布", "published")
        case .claimed: return language.pick("已认领", "claimed")
        case .inProgress: return language.pick("办理中", "in progress")
        case .resolved: return language.pick("已解决", "resolved")
        case .closed: return language.pick("已关闭", "closed")
        }
    }

    /// A state from a chat word (收集/已收集/collected, 发布, 认领, 办理/进展, 解决, 关闭, 未办结/open).
    public init?(word: String) {
        let w = word.lowercased()
        for state in DemandState.allCases where w == state.rawValue || w == state.name(.zh) || w == state.name(.en) {
            self = state
            return
        }
        switch w {
        case "收集": self = .collected
        case "发布", "待认领": self = .published
        case "认领": self = .claimed
        case "办理", "进展", "处理中", "progress": self = .inProgress
        case "解决", "办结": self = .resolved
        case "关闭": self = .closed
        default: return nil
        }
    }
}

/// A demand (`D-<n>`) raised in a unit's group or in deliberation-day minutes.
public struct Demand: Sendable, Codable, Hashable {
    public var id: Int
    /// The unit that collected it; scope checks and the assessment attribute it here.
    public var unitID: String
    public var text: String
    public var category: String?
    public var state = DemandState.collected
    public var createdAt: Date
    public var createdBy: String
    /// When it entered its current state: the escalation clock counts from here.
    public var stateSince: Date
    /// Bumped on every change of state or progress note; stale escalation timers compare it.
    public var version = 0
    /// The unit it was published to (the parent of `unitID`).
    public var publishedTo: String?
    public var claimedBy: String?
    public var claimedUnitID: String?
    /// The last progress note, the resolution or the reason for closing.
    public var note: String?
    /// `chat` or `minutes`.
    public var source: String

    public init(id: Int, unitID: String, text: String, category: String?, createdAt: Date, createdBy: String, source: String = "chat") {
        self.id = id
        self.unitID = unitID
        self.text = text
        self.category = category
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.stateSince = createdAt
        self.source = source
    }

    public var label: String { "D-\(id)" }

    /// The unit whose turn it is: the collecting unit, the one it was published to, or the claimer's.
    public var holderUnitID: String {
        switch state {
        case .published: return publishedTo ?? unitID
        case .claimed, .inProgress: return claimedUnitID ?? unitID
        default: return unitID
        }
    }
}

/// The demand life cycle as pure transitions: each returns the new demand, or a refusal.
public enum DemandPolicy {
    /// An action on a demand.
    public enum Action: Sendable, Hashable {
        case publish(to: String)
        case claim(memberID: String, unitID: String)
        case progress(String)
        case resolve(String)
        case close(reason: String)
    }

    /// What a transition produced: the demand and its next escalation timer.
    public struct Transition: Sendable, Hashable {
        public var demand: Demand
        public var timer: TimerEntry?
    }

    /// Splits `#类别` words off the text of `/诉求 内容 #类别`.
    public static func splitCategory(_ text: String) -> (text: String, category: String?) {
        var category: String?
        var words: [Substring] = []
        for word in text.split(whereSeparator: { $0.isWhitespace }) {
            if word.hasPrefix("#") || word.hasPrefix("＃"), word.count > 1, category == nil {
                category = String(word.dropFirst())
            } else {
                words.append(word)
            }
        }
        return (words.joined(separator: " "), category)
    }

    /// A new demand and its first timer.
    public static func register(id: Int, unitID: String, text: String, by memberID: String, source: String = "chat", settings: RegistrySettings, now: Date) -> Transition {
        let (body, category) = splitCategory(text)
        let demand = Demand(id: id, unitID: unitID, text: body, category: category, createdAt: now, createdBy: memberID, source: source)
        return Transition(demand: demand, timer: timer(for: demand, step: 1, settings: settings))
    }

    /// Applies an action.
    /// - Throws: a `Refusal` when the action does not fit the demand's state.
    public static func apply(_ action: Action, to demand: Demand, settings: RegistrySettings, now: Date) throws(Refusal) -> Transition {
        guard demand.state.isOpen else {
            throw Refusal(
                zh: "\(demand.label) 已\(demand.state == .resolved ? "解决" : "关闭")，不能再操作。",
                en: "\(demand.label) is already \(demand.state.name(.en)).")
        }
        var next = demand
        switch action {
        case .publish(let parent):
            guard demand.state == .collected else {
                throw Refusal(
                    zh: "\(demand.label) 当前为“\(demand.state.name(.zh))”，只有“已收集”的诉求可以发布。",
                    en: "\(demand.label) is \(demand.state.name(.en)); only a collected demand can be published.")
            }
            next.state = .published
            next.publishedTo = parent
        case .claim(let memberID, let unitID):
            guard demand.state == .published else {
                throw Refusal(
                    zh: "\(demand.label) 当前为“\(demand.state.name(.zh))”，只有“已发布”的诉求可以认领。",
                    en: "\(demand.label) is \(demand.state.name(.en)); only a published demand can be claimed.")
            }
            next.state = .claimed
            next.claimedBy = memberID
            next.claimedUnitID = unitID
        case .progress(let note):
            guard demand.state == .claimed || demand.state == .inProgress else {
                throw Refusal(
                    zh: "\(demand.label) 还没有被认领，认领后才能报告进展。",
                    en: "\(demand.label) has not been claimed yet; report progress after claiming it.")
            }
            next.state = .inProgress
            next.note = note
        case .resolve(let note):
            next.state = .resolved
            next.note = note
        case .close(let reason):
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Refusal(
                    zh: "关闭诉求需要写明原因：/诉求 关闭 \(demand.label) 原因",
                    en: "Closing a demand needs a reason: /demand close \(demand.label) reason")
            }
            next.state = .closed
            next.note = reason
        }
        next.version += 1
        next.stateSince = now
        return Transition(demand: next, timer: next.state.isOpen ? timer(for: next, step: 1, settings: settings) : nil)
    }

    /// The escalation timer of a step: step k fires k limits after the demand entered its state.
    public static func timer(for demand: Demand, step: Int, settings: RegistrySettings) -> TimerEntry? {
        guard demand.state.isOpen, let limit = settings.demandLimits[demand.state], limit > 0 else { return nil }
        return TimerEntry(
            key: "demand:\(demand.id):v\(demand.version):step:\(step)",
            dueAt: demand.stateSince.addingTimeInterval(limit * Double(step)),
            kind: .demandStep, subject: "\(demand.id):\(demand.version)", step: step)
    }

    /// The demand id and version a timer is about.
    public static func subject(of timer: TimerEntry) -> (id: Int, version: Int)? {
        let parts = timer.subject.split(separator: ":")
        guard parts.count == 2, let id = Int(parts[0]), let version = Int(parts[1]) else { return nil }
        return (id, version)
    }

    /// What an escalation step produced.
    public struct Escalation: Sendable, Hashable {
        public var notices: [OutboundMessage]
        public var next: TimerEntry?
        /// True on the first step: the demand became overdue (logged once for the assessment).
        public var becameOverdue: Bool
    }

    /// A demand waited too long in one state: step k tells the k-th unit up the escalation chain of
    /// the unit holding it (its supervisors, then theirs), and sets the next step while the chain lasts.
    /// A timer of an older version (the demand moved on since) does nothing.
    public static func escalate(_ demand: Demand, timer: TimerEntry, org: OrgTree, settings: RegistrySettings, language: Language, now: Date) -> Escalation {
        guard let subject = subject(of: timer), subject.version == demand.version, demand.state.isOpen,
            let limit = settings.demandLimits[demand.state]
        else {
            return Escalation(notices: [], next: nil, becameOverdue: false)
        }
        let holder = demand.holderUnitID
        let chain = org.escalationChain(of: holder)
        var notices: [OutboundMessage] = []
        let waited = DurationText.human(now.timeIntervalSince(demand.stateSince), language: language)
        let limitText = DurationText.human(limit, language: language)
        let origin = org.unit(demand.unitID)?.name ?? demand.unitID
        let holderName = org.unit(holder)?.name ?? holder
        let category = demand.category.map { language.pick("（\($0)）", " (\($0))") } ?? ""
        let text = language.pick(
            "⏰ 诉求 \(demand.label)\(category)来自\(origin)，在“\(demand.state.name(.zh))”状态已等待\(waited)，超过时限\(limitText)，当前由\(holderName)办理，请督办。",
            "⏰ Demand \(demand.label)\(category) from \(origin) has been \(demand.state.name(.en)) for \(waited), over its limit of \(limitText); it sits with \(holderName). Please follow up."
        )
        let index = timer.step - 1
        if index < chain.count, let group = chain[index].group {
            notices.append(
                OutboundMessage(
                    key: "demand:\(demand.id):v\(demand.version):step:\(timer.step):\(chain[index].id)",
                    unitID: chain[index].id, group: group, text: text))
        }
        if timer.step == 1, let unit = org.unit(holder), let group = unit.group {
            notices.append(OutboundMessage(key: "demand:\(demand.id):v\(demand.version):holder", unitID: unit.id, group: group, text: text))
        }
        let next = timer.step < chain.count ? Self.timer(for: demand, step: timer.step + 1, settings: settings) : nil
        return Escalation(notices: notices, next: next, becameOverdue: timer.step == 1)
    }
}

extension DemandPolicy.Action {
    /// The event an applied action writes.
    public var eventKind: EventKind {
        switch self {
        case .publish: .demandPublished
        case .claim: .demandClaimed
        case .progress: .demandProgress
        case .resolve: .demandResolved
        case .close: .demandClosed
        }
    }
}
