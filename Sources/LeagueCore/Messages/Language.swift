/// The language the bot speaks in chat: Chinese by default, English with `locale: en`.
public enum Language: String, Sendable, Codable, Hashable {
    case zh = "zh-Hans"
    case en = "en"

    /// Accepts `zh`, `zh-Hans`, `zh-CN`, `en`, `en-US`, …
    public init?(configValue: String) {
        let lower = configValue.lowercased()
        if lower.hasPrefix("zh") { self = .zh } else if lower.hasPrefix("en") { self = .en } else { return nil }
    }

    /// Picks the Chinese or the English text.
    public func pick(_ zh: String, _ en: String) -> String { self == .zh ? zh : en }

    /// The first `limit` names joined with `、`, then how many there are in all (` 等40个`, ` and 10 more`).
    public func list(_ names: [String], limit: Int) -> String {
        names.prefix(limit).joined(separator: "、") + (names.count > limit ? pick(" 等\(names.count)个", " and \(names.count - limit) more") : "")
    }
}
