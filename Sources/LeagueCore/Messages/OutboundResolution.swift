import Foundation

/// Fills in what an outbox row does not store (issue 11): the group's robot credentials and the
/// mentioned members' platform ids and mobiles, from the org tree as it is configured now. Pure.
public enum OutboundResolution {
    /// The message ready for its platform's encoder, or nil when its group is no longer bound to
    /// any unit (nothing to send it with).
    ///
    /// The group is the binding of the message's unit when it still posts to the same chat, else the
    /// binding of whichever unit the chat belongs to now. Mentions of members no longer in the tree
    /// are dropped.
    public static func resolve(_ message: OutboundMessage, org: OrgTree) -> OutboundMessage? {
        let stored = message.group
        let group: GroupBinding
        if let binding = org.unit(message.unitID)?.group, binding.platform == stored.platform, binding.chat == stored.chat {
            group = binding
        } else if let binding = org.unit(platform: stored.platform, chat: stored.chat)?.group {
            group = binding
        } else {
            return nil
        }
        var resolved = message
        resolved.group = group
        resolved.mentions = message.mentions.compactMap { mention in
            org.member(mention.memberID).map { Mention(memberID: $0.id, name: $0.name, userID: $0.ids[group.platform], mobile: $0.mobile) }
        }
        return resolved
    }
}
