/// Cleans a chat message before parsing: full-width forms to half-width, the bot's
/// @-mention stripped, surrounding white space trimmed.
public struct Normalizer: Sendable {
    /// The names the bot answers to when @-mentioned (`团务助手`, `LeagueOps`).
    public var botNames: [String] {
        didSet { mentions = Self.mentions(of: botNames) }
    }
    /// `@` and each name in half-width, made once (not for every message).
    private var mentions: [String]

    public init(botNames: [String]) {
        self.botNames = botNames
        self.mentions = Self.mentions(of: botNames)
    }

    private static func mentions(of names: [String]) -> [String] {
        names.filter { !$0.isEmpty }.map { "@" + halfWidth($0) }
    }

    /// The result of normalising one message.
    public struct Normalized: Sendable, Equatable {
        public var text: String
        /// True when the message began with an @-mention of the bot.
        public var addressedToBot: Bool
    }

    /// Full-width ASCII (U+FF01–U+FF5E) becomes half-width; the ideographic space becomes a space.
    public static func halfWidth(_ text: String) -> String {
        // Most messages have nothing to change: no copy then.
        guard text.unicodeScalars.contains(where: { needsHalfWidth($0.value) }) else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0xFF01...0xFF5E: scalars.append(Unicode.Scalar(scalar.value - 0xFEE0)!)
            case 0x3000, 0x00A0, 0x2002...0x200A: scalars.append(" ")
            case 0x200B, 0xFEFF: break
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    private static func needsHalfWidth(_ value: UInt32) -> Bool {
        switch value {
        case 0xFF01...0xFF5E, 0x3000, 0x00A0, 0x2002...0x200B, 0xFEFF: true
        default: false
        }
    }

    public func normalize(_ raw: String) -> Normalized {
        var text = Self.halfWidth(raw).trimmingWhitespace()
        var addressed = false
        // Strip every leading @-mention of the bot ("@团务助手 /任务 …", "@团务助手收到").
        var changed = true
        while changed {
            changed = false
            for mention in mentions {
                if text.hasPrefix(mention) {
                    text = String(text.dropFirst(mention.count)).trimmingWhitespace()
                    addressed = true
                    changed = true
                }
            }
        }
        // A trailing mention of the bot ("收到 @团务助手") is stripped too.
        for mention in mentions {
            if text.hasSuffix(mention) {
                text = String(text.dropLast(mention.count)).trimmingWhitespace()
                addressed = true
            }
        }
        return Normalized(text: text, addressedToBot: addressed)
    }
}

extension String {
    /// The string without leading and trailing white space (spaces, tabs, new lines).
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        if let first = scalars.first, let last = scalars.last, !first.properties.isWhitespace, !last.properties.isWhitespace { return self }
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// The string split on runs of white space.
    public func words() -> [String] {
        split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }
}
