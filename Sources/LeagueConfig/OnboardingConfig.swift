import LeagueCore
import Yams

extension OnboardingSettings {
    /// Reads `onboarding:` from leagueops.yaml.
    ///
    /// ```yaml
    /// onboarding: {code_ttl: 14d}
    /// ```
    static func read(_ top: Node.Mapping?, _ reader: YAMLReader) -> OnboardingSettings {
        var settings = OnboardingSettings()
        if let map = reader.mapping(top?["onboarding"], "onboarding") {
            reader.checkKeys(map, allowed: ["code_ttl"], "onboarding")
            if let value = reader.duration(map["code_ttl"], "onboarding.code_ttl") {
                if value >= 60 { settings.codeTTL = value } else {
                    reader.problem(map["code_ttl"], "onboarding.code_ttl must be at least 1m (write it like 14d)")
                }
            }
        }
        return settings
    }
}
