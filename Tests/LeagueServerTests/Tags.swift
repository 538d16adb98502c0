import LeagueTestSupport
import Testing

/// The slow tests, tagged and named so that `swift test --skip 'TimedTests|ProcessTests'` runs the fast set
/// (README, Testing). `.ci/run` runs everything: the fast set and the `ProcessTests` suites in parallel,
/// then the `TimedTests` suites on their own.
extension Tag {
    /// Measures time on real sockets (stream gateways, deadlines, wake-ups): its suite name ends in `TimedTests`.
    @Tag static var timed: Self
    /// Starts child processes (the built `leagueops`, chromium): its suite name ends in `ProcessTests` or `TimedTests`.
    @Tag static var process: Self
}

/// The built `leagueops` for a process test; nil, with the test failed, when there is none.
func builtLeagueops() -> String? {
    if let binary = leagueopsBinary() { return binary }
    Issue.record("no built leagueops binary next to the test bundle; run `swift build` first")
    return nil
}
