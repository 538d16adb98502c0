import LeagueCore

/// Deliberation day: agenda, meetings and minutes, reminders, missing-minutes follow-up.
enum DeliberationFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [String: TimerHandler]) {}
}
