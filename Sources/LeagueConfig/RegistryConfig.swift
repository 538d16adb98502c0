import LeagueCore
import Yams

/// Reads `permissions:`, `demands:` and `assessment:` from leagueops.yaml.
enum RegistryConfigReader {
    static func read(_ top: Node.Mapping?, _ reader: YAMLReader) -> RegistrySettings {
        RegistrySettings()
    }
}
