import Foundation

/// Store operations of the deliberation feature (agenda, meetings, minutes, carried items).
public protocol DeliberationRecords {
    /// The next free meeting number (M-<n>).
    func nextMeetingID() throws -> Int
    /// Inserts or replaces a meeting (open or closed) with all its items.
    func save(_ meeting: Meeting) throws
    func meeting(_ id: Int) throws -> Meeting?
    /// The meeting open in a unit's group, if any.
    func openMeeting(unitID: String) throws -> Meeting?
    /// Closed meetings of these units for a month (nil: every month), oldest first.
    func minutes(unitIDs: [String], month: String?) throws -> [Meeting]
    /// The units with at least one closed meeting counting for a month.
    func unitsWithMinutes(month: String) throws -> Set<String>
    /// Messages of a group chat committed after inbound id `after` (exclusive) up to `through` (inclusive), in order.
    func inbound(platform: String, chat: String, after: Int64, through: Int64) throws -> [InboundRecord]
    /// The newest inbound id of a group chat (0 when none).
    func lastInboundID(platform: String, chat: String) throws -> Int64

    func insert(_ item: AgendaItem) throws
    /// Agenda items of a unit for a month, in the order they were added.
    func agenda(unitID: String, month: String) throws -> [AgendaItem]
    /// How many agenda items a unit has for a month (counted in the index; nothing is decoded).
    func agendaCount(unitID: String, month: String) throws -> Int
    /// Agenda items a unit added for others for a month.
    func agenda(addedBy sourceUnitID: String, month: String) throws -> [AgendaItem]

    func insert(_ followUp: FollowUp) throws
    /// Carried items of a unit not closed yet.
    func openFollowUps(unitID: String) throws -> [FollowUp]
    /// Closes carried items by id.
    func closeFollowUps(_ ids: [Int64], at: Date) throws
    /// Closes the carried demand with a registry id; returns how many were closed.
    func closeDemandFollowUps(demandRef: String, at: Date) throws -> Int

    /// A value kept by the feature (the minutes-link key).
    func deliberationValue(_ key: String) throws -> String?
    func setDeliberationValue(_ key: String, _ value: String) throws
}
