import ArgumentParser

/// `leagueops`: the executable only parses arguments; everything else lives in the modules.
@main
struct LeagueOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leagueops",
        abstract: "A chat-ops bot for youth league work groups: tasks down the tree, reports up, on 10- and 3-minute targets.",
        subcommands: [Serve.self, Check.self, Org.self, Chat.self, Minutes.self, Import.self, Registry.self, Report.self]
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The main config file.")
    var config = "config/leagueops.yaml"
}
