import Foundation
import LeagueCore
import Yams

/// Reads `deliberation:` from leagueops.yaml.
///
/// Every key is optional; the defaults are the 9th-day practice (`DeliberationSettings()`), in the
/// bot's `timezone:` unless `deliberation.timezone` names another.
enum DeliberationConfigReader {
    static let keys: Set<String> = [
        "day", "remind_at", "eve_remind_at", "minutes_due", "tiers", "timezone", "auto_close", "checklist", "link_secret", "link_ttl",
    ]

    static func read(_ top: Node.Mapping?, _ reader: YAMLReader) -> DeliberationSettings {
        var settings = DeliberationSettings()
        if let name = top?["timezone"]?.scalar?.string, let zone = TimeZone(identifier: name) { settings.timeZone = zone }
        guard let map = reader.section(top, "deliberation", allowed: keys) else { return settings }
        if let day = reader.int(map["day"], "deliberation.day", range: 1...31) { settings.day = day }
        if let time = self.time(map["remind_at"], "deliberation.remind_at", reader) { settings.remindAt = time }
        if let time = self.time(map["eve_remind_at"], "deliberation.eve_remind_at", reader) { settings.eveRemindAt = time }
        if let time = self.time(map["minutes_due"], "deliberation.minutes_due", reader) { settings.minutesDue = time }
        if let tiers = reader.strings(map["tiers"], "deliberation.tiers") {
            if tiers.isEmpty {
                reader.problem(map["tiers"], "deliberation.tiers must name at least one tier, like [grid, community]")
            } else {
                settings.tiers = tiers
            }
        }
        if let zone = reader.timeZone(map["timezone"], "deliberation.timezone") { settings.timeZone = zone }
        if let seconds = reader.duration(map["auto_close"], "deliberation.auto_close") { settings.autoCloseSeconds = seconds }
        if let node = map["checklist"] {
            if let text = node.scalar?.string {
                settings.checklist = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            } else if let lines = reader.strings(node, "deliberation.checklist") {
                settings.checklist = lines
            }
        }
        if let secret = reader.secret(map["link_secret"], "deliberation.link_secret") {
            if secret.utf8.count < 32 {
                // Anyone who guesses the secret can sign links to every unit's minutes (issue 11).
                reader.problem(
                    map["link_secret"],
                    "deliberation.link_secret must be at least 32 bytes (it has \(secret.utf8.count)); use a random value, e.g. `openssl rand -hex 32`, or leave it out to let the bot keep a random key in its store"
                )
            } else {
                settings.linkSecret = secret
            }
        }
        if let seconds = reader.duration(map["link_ttl"], "deliberation.link_ttl") { settings.linkTTLSeconds = seconds }
        if settings.minutesDue < settings.remindAt {
            reader.problem(
                map["minutes_due"] ?? map["remind_at"],
                "deliberation.minutes_due (\(settings.minutesDue)) is before remind_at (\(settings.remindAt)); the deadline must come after the day's reminder")
        }
        return settings
    }

    /// `HH:MM` or `HH:MM:SS`.
    private static func time(_ node: Node?, _ what: String, _ reader: YAMLReader) -> TimeOfDay? {
        reader.parsed(node, what, TimeOfDay.init(text:)) { "\(what): “\($0)” is not a time; write it as HH:MM or HH:MM:SS, like \"08:30\"" }
    }
}
