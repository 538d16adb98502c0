/// Registry, demand and assessment settings (`permissions:`, `demands:`, `assessment:` in leagueops.yaml).
public struct RegistrySettings: Sendable, Hashable {
    public init() {}
}
