import LeagueCore
import Yams

extension OnboardingSettings {
    /// Reads `onboarding:` from leagueops.yaml.
    ///
    /// ```yaml
    /// onboarding: {code_ttl: 14d, unbound_notice: mon 09:00}
    /// ```
    static func read(_ top: Node.Mapping?, _ reader: YAMLReader) -> OnboardingSettings {
        var settings = OnboardingSettings()
        if let map = reader.section(top, "onboarding", allowed: ["code_ttl", "unbound_notice"]) {
            if let value = reader.duration(map["code_ttl"], "onboarding.code_ttl") {
                if value >= 60 {
                    settings.codeTTL = value
                } else {
                    reader.problem(map["code_ttl"], "onboarding.code_ttl must be at least 1m (write it like 14d)")
                }
            }
            if let text = reader.string(map["unbound_notice"], "onboarding.unbound_notice"), !["off", "false", "no", ""].contains(text.lowercased()) {
                if let time = WeeklyTime(text: text) {
                    settings.unboundNotice = time
                } else {
                    reader.problem(map["unbound_notice"], "onboarding.unbound_notice must be off or a weekday and time like “mon 09:00”, not “\(text)”")
                }
            }
        }
        return settings
    }
}
