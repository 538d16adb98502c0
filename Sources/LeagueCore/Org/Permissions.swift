import Foundation

/// Who may act for a unit: the permission decisions of the chat commands, as pure functions of
/// the org tree (issue 11 point 1).
///
/// A group chat belongs to one unit, but people sit in more than one group (a town cadre is a
/// guide in the district group and in every community group below). Sitting in a group gives no
/// right to act for its unit: a command that acts for a unit is allowed only for a member of that
/// unit with the needed role, or for an admin of one of its ancestors.
public enum Permissions {
    /// Catalogue ids of the commands that act for the unit of the group they are typed in:
    /// dispatching, reporting, cancelling, closing, recording actions, asking for minutes, querying,
    /// registering demands.
    public static let actingCommands: Set<String> = ["task", "report", "cancel", "done", "action", "minutes", "query", "demand"]

    /// The outcome of a permission check.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// The sender is not registered.
        case unknownSender
        /// The sender belongs to another unit (`memberUnitID`) and is not an admin above `unitID`.
        case otherUnit(memberUnitID: String, unitID: String)
        /// The sender is a member of the unit but has none of the needed roles.
        case missingRole([Role])
    }

    /// May `member` act for `unitID` with a command that needs one of `roles` (empty: any member)?
    ///
    /// - Parameters:
    ///   - member: the sender, nil when not registered.
    ///   - unitID: the unit the command acts for (the group it was typed in).
    ///   - roles: the roles the command needs; empty when every registered member may use it.
    ///   - org: the org tree.
    /// - Returns: `.allowed`, or why not.
    public static func actFor(_ member: Member?, unitID: String, roles: [Role], org: OrgTree) -> Decision {
        guard let member else { return .unknownSender }
        if member.unitID == unitID {
            return roles.isEmpty || roles.contains(where: member.has) ? .allowed : .missingRole(roles)
        }
        // An admin of an ancestor acts for every unit below (admin implies every role there).
        if member.has(.admin), unitID != member.unitID, org.isInSubtree(unitID, of: member.unitID) {
            return .allowed
        }
        return .otherUnit(memberUnitID: member.unitID, unitID: unitID)
    }

    /// May a meeting held in `meetingUnitID` give an action to `owner`? Only people of the meeting
    /// unit's subtree can own its actions.
    public static func mayOwnAction(_ owner: Member, meetingUnitID: String, org: OrgTree) -> Bool {
        org.isInSubtree(owner.unitID, of: meetingUnitID)
    }
}
