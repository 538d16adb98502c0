/// The deliberation-day schedule (`deliberation:` in leagueops.yaml).
public struct DeliberationSettings: Sendable, Hashable {
    public init() {}
}
