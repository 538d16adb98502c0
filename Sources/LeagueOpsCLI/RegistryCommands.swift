import ArgumentParser

/// `leagueops import …`
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import data into the store.")
}

/// `leagueops registry …`
struct Registry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Operator access to the youth registry.")
}

/// `leagueops report …`
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reports.")
}
