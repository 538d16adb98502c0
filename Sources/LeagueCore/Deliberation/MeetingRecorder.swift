import Foundation

/// What a marked line of a meeting is.
public enum MeetingItemKind: String, Sendable, Hashable, Codable, CaseIterable {
    case topic, note, agreed, action, demand
}

/// A person named in minutes: who said, marked or owns something.
public struct MeetingPerson: Sendable, Hashable, Codable {
    public var memberID: String?
    public var name: String
    public var unitID: String?

    public init(memberID: String?, name: String, unitID: String? = nil) {
        self.memberID = memberID
        self.name = name
        self.unitID = unitID
    }
}

/// One marked item: a topic, a note, a decision, an action with its owner, a resident's demand.
public struct MeetingItem: Sendable, Hashable, Codable {
    public var kind: MeetingItemKind
    public var text: String
    public var by: MeetingPerson
    public var at: Date
    /// The topic open when the item was marked (nil before the first /议题).
    public var topic: String?
    /// For actions: who does it.
    public var owner: MeetingPerson?
    /// For actions: the task of the task loop it became.
    public var taskID: Int?
    public var urgent: Bool
    /// For demands: the registry's id, when the demand registry assigned one.
    public var demandRef: String?

    public init(
        kind: MeetingItemKind, text: String, by: MeetingPerson, at: Date, topic: String? = nil, owner: MeetingPerson? = nil,
        taskID: Int? = nil, urgent: Bool = false, demandRef: String? = nil
    ) {
        self.kind = kind
        self.text = text
        self.by = by
        self.at = at
        self.topic = topic
        self.owner = owner
        self.taskID = taskID
        self.urgent = urgent
        self.demandRef = demandRef
    }
}

/// One line of the transcript: every message of the group while the meeting was open.
public struct TranscriptLine: Sendable, Hashable, Codable {
    public var at: Date
    public var speaker: String
    public var text: String

    public init(at: Date, speaker: String, text: String) {
        self.at = at
        self.speaker = speaker
        self.text = text
    }
}

/// A meeting of one group, open or closed; closed, it is the minutes.
public struct Meeting: Sendable, Hashable, Codable {
    public var id: Int
    public var unitID: String
    public var unitName: String
    /// The deliberation month the meeting counts for (`2026-11`).
    public var month: String
    public var title: String
    public var openedAt: Date
    public var openedBy: MeetingPerson
    /// The inbound message that opened it: the transcript starts there.
    public var startInbound: Int64
    public var closedAt: Date?
    public var closedBy: MeetingPerson?
    public var autoClosed = false
    public var items: [MeetingItem] = []
    public var transcript: [TranscriptLine] = []
    public var currentTopic: String?

    public init(id: Int, unitID: String, unitName: String, month: String, title: String, openedAt: Date, openedBy: MeetingPerson, startInbound: Int64) {
        self.id = id
        self.unitID = unitID
        self.unitName = unitName
        self.month = month
        self.title = title
        self.openedAt = openedAt
        self.openedBy = openedBy
        self.startInbound = startInbound
    }

    public var isOpen: Bool { closedAt == nil }
    public var label: String { "M-\(id)" }
    public func items(_ kind: MeetingItemKind) -> [MeetingItem] { items.filter { $0.kind == kind } }
}

/// The meeting recorder as a pure state machine, in the way IRC MeetBot records meetings:
/// `open`, then marked items, then `close` (by a person or by the auto-close timer) with the transcript.
public enum MeetingRecorder {
    public enum State: Sendable, Hashable {
        case idle
        case open(Meeting)
        case closed(Meeting)
    }

    public enum Event: Sendable, Hashable {
        case open(id: Int, unitID: String, unitName: String, month: String, title: String, by: MeetingPerson, at: Date, inbound: Int64)
        case mark(MeetingItem)
        /// `transcript`: the group's messages since the meeting opened, in order.
        case close(by: MeetingPerson, at: Date, transcript: [TranscriptLine])
        /// The auto-close timer of meeting `id`; ignored for another meeting or before its time.
        case autoClose(id: Int, at: Date, transcript: [TranscriptLine])
    }

    public struct Transition: Sendable {
        public var state: State
        /// After `open`: when the auto-close timer is due.
        public var autoCloseAt: Date?
        /// After a close: the minutes to store and summarise.
        public var minutes: Meeting?
    }

    /// Applies one event.
    /// - Throws: `Refusal` for an event that makes no sense in the state (marking with no meeting open,
    ///   opening a second one); an auto-close that does not apply returns the state unchanged.
    public static func apply(_ event: Event, to state: State, autoCloseSeconds: Double) throws(Refusal) -> Transition {
        switch (state, event) {
        case (.open(let meeting), .open):
            throw Refusal(
                zh: "本群已有进行中的议事（\(meeting.title)，\(meeting.label)），请先发送 /议事 结束。",
                en: "A meeting is already open here (\(meeting.title), \(meeting.label)); send /meeting end first.")
        case (_, .open(let id, let unitID, let unitName, let month, let title, let by, let at, let inbound)):
            let meeting = Meeting(id: id, unitID: unitID, unitName: unitName, month: month, title: title, openedAt: at, openedBy: by, startInbound: inbound)
            return Transition(state: .open(meeting), autoCloseAt: at.addingTimeInterval(autoCloseSeconds))
        case (.open(var meeting), .mark(var item)):
            if item.kind == .topic {
                meeting.currentTopic = item.text
                item.topic = item.text
            } else {
                item.topic = meeting.currentTopic
            }
            meeting.items.append(item)
            return Transition(state: .open(meeting))
        case (.open(var meeting), .close(let by, let at, let transcript)):
            meeting.closedAt = at
            meeting.closedBy = by
            meeting.transcript = transcript
            return Transition(state: .closed(meeting), minutes: meeting)
        case (.open(var meeting), .autoClose(let id, let at, let transcript)):
            guard meeting.id == id, at >= meeting.openedAt.addingTimeInterval(autoCloseSeconds) else { return Transition(state: state) }
            meeting.closedAt = at
            meeting.autoClosed = true
            meeting.transcript = transcript
            return Transition(state: .closed(meeting), minutes: meeting)
        case (_, .autoClose):
            return Transition(state: state)
        case (_, .mark), (_, .close):
            throw Refusal(
                zh: "本群没有进行中的议事。请先发送 /议事 开始 主题。",
                en: "No meeting is open in this group. Send /meeting start <title> first.")
        }
    }

    /// The short summary replied in the group when a meeting closes.
    public static func summary(_ meeting: Meeting, language: Language, format: TimeFormat) -> String {
        let lang = language
        var lines: [String] = []
        let duration = DurationText.human((meeting.closedAt ?? meeting.openedAt).timeIntervalSince(meeting.openedAt), language: lang)
        let how = meeting.autoClosed ? lang.pick("（超时自动结束）", " (closed automatically)") : ""
        let span = "\(format.clock(meeting.openedAt))–\(format.clock(meeting.closedAt ?? meeting.openedAt))"
        lines.append(
            lang.pick(
                "📝 议事纪要 \(meeting.label)「\(meeting.title)」已结束\(how)（\(span)，用时\(duration)），记录 \(meeting.transcript.count) 条发言。",
                "📝 Minutes \(meeting.label) “\(meeting.title)” closed\(how) (\(span), \(duration)); \(meeting.transcript.count) lines recorded."
            ))
        let topics = meeting.items(.topic)
        if !topics.isEmpty {
            lines.append(lang.pick("议题：", "Topics: ") + topics.map(\.text).joined(separator: lang.pick("；", "; ")))
        }
        let decisions = meeting.items(.agreed)
        if !decisions.isEmpty {
            lines.append(lang.pick("决议（\(decisions.count)）：", "Decisions (\(decisions.count)):"))
            for (index, item) in decisions.enumerated() { lines.append("  \(index + 1). \(item.text)") }
        }
        let actions = meeting.items(.action)
        if !actions.isEmpty {
            lines.append(lang.pick("待办（\(actions.count)）：", "Actions (\(actions.count)):"))
            for item in actions {
                let task = item.taskID.map { " T-\($0)" } ?? ""
                lines.append("  •\(task) \(item.owner?.name ?? "?")：\(item.text)\(item.urgent ? lang.pick("（紧急）", " (urgent)") : "")")
            }
        }
        let demands = meeting.items(.demand)
        if !demands.isEmpty {
            lines.append(lang.pick("收集诉求（\(demands.count)）：", "Demands collected (\(demands.count)):"))
            for item in demands { lines.append("  • \(item.demandRef.map { "\($0) " } ?? "")\(item.text)") }
        }
        if topics.isEmpty && decisions.isEmpty && actions.isEmpty && demands.isEmpty {
            lines.append(lang.pick("（未标记议题、决议、待办或诉求）", "(no topics, decisions, actions or demands were marked)"))
        }
        lines.append(lang.pick("发送 /纪要 查看本月纪要。", "Send /minutes for this month's minutes."))
        return lines.joined(separator: "\n")
    }
}
