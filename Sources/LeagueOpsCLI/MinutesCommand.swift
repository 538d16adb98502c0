import ArgumentParser

/// `leagueops minutes …`
struct Minutes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliberation-day minutes.")
}
