import Foundation
import LeagueConfig
import LeagueCore

/// The org lookups the engine makes, in one place: which unit a chat belongs to, who a sender is,
/// and what an outbox message needs at send time. Bindings and platform ids learned at run time
/// (from the store) belong here too, so every caller sees the same answer.
extension Engine {
    /// The unit bound to a message's chat.
    public func unit(for message: ChatMessage) -> OrgUnit? {
        config.org.unit(platform: message.platform, chat: message.chat)
    }

    /// The registered member who sent a message.
    public func member(for message: ChatMessage) -> Member? {
        config.org.member(platform: message.platform, userID: message.sender)
    }

    /// An outbox message with its group's current credentials and its mentions resolved to
    /// platform ids and mobiles (the store keeps neither); nil when its group is no longer bound.
    public func resolveForSending(_ message: OutboundMessage) -> OutboundMessage? {
        OutboundResolution.resolve(message, org: config.org)
    }
}
