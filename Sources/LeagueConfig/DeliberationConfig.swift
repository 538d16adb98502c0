import LeagueCore
import Yams

/// Reads `deliberation:` from leagueops.yaml.
enum DeliberationConfigReader {
    static func read(_ top: Node.Mapping?, _ reader: YAMLReader) -> DeliberationSettings {
        DeliberationSettings()
    }
}
