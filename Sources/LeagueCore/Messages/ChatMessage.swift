import Foundation

/// One chat message as every platform adapter delivers it to the bot.
///
/// The generic webhook, WeCom, DingTalk, Feishu and the console all produce this value;
/// from here on the bot does not care where a message came from.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Platform name: `generic`, `wecom`, `dingtalk`, `feishu` or `console`.
    public var platform: String
    /// The platform's id of the group chat.
    public var chat: String
    /// The platform's id of the sender.
    public var sender: String
    /// The text, with the bot's @-mention already stripped by the adapter where the platform marks it.
    public var text: String
    /// The platform's message id, the deduplication key.
    public var messageID: String
    /// When the platform says the message was sent.
    public var sentAt: Date
    /// True when the platform says the bot was @-mentioned (the message then is addressed to the bot).
    public var mentionsBot: Bool

    public init(platform: String, chat: String, sender: String, text: String, messageID: String, sentAt: Date, mentionsBot: Bool = false) {
        self.platform = platform
        self.chat = chat
        self.sender = sender
        self.text = text
        self.messageID = messageID
        self.sentAt = sentAt
        self.mentionsBot = mentionsBot
    }
}

/// Someone a message should @-mention, with every handle a platform might need.
public struct Mention: Sendable, Hashable, Codable {
    public var memberID: String
    public var name: String
    /// The member's user id on the platform of the group being posted to, if known.
    public var userID: String?
    public var mobile: String?

    public init(memberID: String, name: String, userID: String?, mobile: String?) {
        self.memberID = memberID
        self.name = name
        self.userID = userID
        self.mobile = mobile
    }
}

/// Outbound urgency: urgent messages leave a robot's queue before routine ones.
public enum Priority: Int, Sendable, Codable, Hashable, Comparable {
    case urgent = 0
    case routine = 1

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A message the bot posts into one group.
public struct OutboundMessage: Sendable, Hashable, Codable {
    /// Idempotency key, stable across retries and restarts: `task:T-12:grp:jfl:step:breach-1`.
    public var key: String
    public var unitID: String
    public var group: GroupBinding
    public var text: String
    public var mentions: [Mention]
    public var priority: Priority
    /// Markdown when the platform supports it; plain text otherwise.
    public var markdown: Bool

    public init(key: String, unitID: String, group: GroupBinding, text: String, mentions: [Mention] = [], priority: Priority = .routine, markdown: Bool = false) {
        self.key = key
        self.unitID = unitID
        self.group = group
        self.text = text
        self.mentions = mentions
        self.priority = priority
        self.markdown = markdown
    }
}
