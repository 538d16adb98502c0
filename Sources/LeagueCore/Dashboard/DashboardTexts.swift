import Foundation

/// The dashboard's sentences in chat (its pages are `DashboardHTML`). Pure.
public enum DashboardTexts {
    /// The line that ends a reply with the sender's link to the page showing the same figures.
    public static func line(_ url: String, language: Language) -> String {
        language.pick("\n看板：\(url)", "\nDashboard: \(url)")
    }

    /// `/看板`: the personal link, its scope and how long it works (`ttl`, already in words).
    public static func link(_ url: String, memberName: String, scopeName: String, ttl: String, language: Language) -> String {
        language.pick(
            "📊 \(memberName)的个人看板（\(scopeName)及下级，\(ttl)内有效，请勿转发）：\n\(url)",
            "📊 Personal dashboard for \(memberName) (\(scopeName) and below, valid for \(ttl); do not forward):\n\(url)")
    }
}
