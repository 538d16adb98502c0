import Foundation

/// An agenda item for a group's deliberation day.
public struct AgendaItem: Sendable, Hashable, Codable {
    public var id: Int64
    public var unitID: String
    /// The deliberation month it is for (`2026-11`).
    public var month: String
    public var text: String
    public var addedBy: MeetingPerson
    /// The unit whose group added it (a supervisor's group adds items for its subtree).
    public var sourceUnitID: String
    public var addedAt: Date

    public init(id: Int64 = 0, unitID: String, month: String, text: String, addedBy: MeetingPerson, sourceUnitID: String, addedAt: Date) {
        self.id = id
        self.unitID = unitID
        self.month = month
        self.text = text
        self.addedBy = addedBy
        self.sourceUnitID = sourceUnitID
        self.addedAt = addedAt
    }
}

/// An action or demand from minutes that is carried into the group's next reminders until it is closed.
public struct FollowUp: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable { case action, demand }

    public var id: Int64
    public var unitID: String
    public var kind: Kind
    public var text: String
    /// Actions: the owner's name.
    public var ownerName: String?
    /// Actions: the task whose status decides whether it is still open.
    public var taskID: Int?
    /// Demands: the demand registry's id, if it assigned one.
    public var demandRef: String?
    public var meetingID: Int
    public var createdAt: Date
    public var closedAt: Date?

    public init(
        id: Int64 = 0, unitID: String, kind: Kind, text: String, ownerName: String? = nil, taskID: Int? = nil,
        demandRef: String? = nil, meetingID: Int, createdAt: Date, closedAt: Date? = nil
    ) {
        self.id = id
        self.unitID = unitID
        self.kind = kind
        self.text = text
        self.ownerName = ownerName
        self.taskID = taskID
        self.demandRef = demandRef
        self.meetingID = meetingID
        self.createdAt = createdAt
        self.closedAt = closedAt
    }
}
