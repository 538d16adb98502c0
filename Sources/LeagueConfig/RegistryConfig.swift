import LeagueCore
import Yams

/// Reads `permissions:`, `demands:` and `assessment:` from leagueops.yaml.
///
/// ```yaml
/// permissions: {urgent: [admin, cadre], publish_demand: [admin, cadre], assessment: [admin, supervisor], min_count: 3}
/// demands: {collected: 7d, published: 3d, claimed: 2d, in_progress: 14d}
/// assessment: {green: 0.9, yellow: 0.7, max_breaches_green: 2, require_minutes: true, candidates: 3}
/// ```
enum RegistryConfigReader {
    static func read(_ top: Node.Mapping?, _ reader: YAMLReader) -> RegistrySettings {
        var settings = RegistrySettings()
        if let map = reader.section(top, "permissions", allowed: ["urgent", "publish_demand", "assessment", "min_count"]) {
            if let node = map["urgent"] { settings.permissions.urgent = roles(node, "permissions.urgent", reader) }
            if let node = map["publish_demand"], let value = roles(node, "permissions.publish_demand", reader) { settings.permissions.publishDemand = value }
            if let node = map["assessment"], let value = roles(node, "permissions.assessment", reader) { settings.permissions.assessment = value }
            if let value = reader.int(map["min_count"], "permissions.min_count", range: 1...100) { settings.permissions.minimumCount = value }
        }
        let keys: [String: DemandState] = ["collected": .collected, "published": .published, "claimed": .claimed, "in_progress": .inProgress]
        if let map = reader.section(top, "demands", allowed: Set(keys.keys)) {
            for (key, state) in keys {
                if let seconds = reader.duration(map[key], "demands.\(key)") { settings.demandLimits[state] = seconds }
            }
        }
        if let map = reader.section(top, "assessment", allowed: ["green", "yellow", "max_breaches_green", "require_minutes", "candidates"]) {
            if let value = reader.double(map["green"], "assessment.green", range: 0...1) { settings.assessment.green = value }
            if let value = reader.double(map["yellow"], "assessment.yellow", range: 0...1) { settings.assessment.yellow = value }
            if settings.assessment.yellow > settings.assessment.green {
                reader.problem(map["yellow"], "assessment.yellow (\(settings.assessment.yellow)) must not be above assessment.green (\(settings.assessment.green))")
            }
            if let value = reader.int(map["max_breaches_green"], "assessment.max_breaches_green", range: 0...10_000) { settings.assessment.maxBreachesGreen = value }
            if let text = reader.string(map["require_minutes"], "assessment.require_minutes") {
                switch text.lowercased() {
                case "true", "yes", "on": settings.assessment.requireMinutes = true
                case "false", "no", "off": settings.assessment.requireMinutes = false
                default: reader.problem(map["require_minutes"], "assessment.require_minutes must be true or false, not “\(text)”")
                }
            }
            if let value = reader.int(map["candidates"], "assessment.candidates", range: 0...100) { settings.assessment.candidates = value }
        }
        return settings
    }

    /// A list of roles (`[admin, cadre]`); an unknown role is a problem on its line.
    static func roles(_ node: Node, _ what: String, _ reader: YAMLReader) -> [Role]? {
        guard let words = reader.strings(node, what) else { return nil }
        var roles: [Role] = []
        for word in words {
            if let role = Role(rawValue: word.lowercased()) {
                roles.append(role)
            } else {
                reader.problem(node, "\(what): unknown role “\(word)” (known: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        if words.isEmpty { reader.problem(node, "\(what) must name at least one role") }
        return roles.isEmpty ? nil : roles
    }
}
