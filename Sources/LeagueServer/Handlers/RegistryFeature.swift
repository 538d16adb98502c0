import LeagueCore

/// Youth registry queries, demands, the monthly assessment.
enum RegistryFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [String: TimerHandler]) {}
}
