import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore

/// `leagueops`: the executable only parses arguments; everything else lives in the modules.
@main
struct LeagueOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leagueops",
        abstract: "A chat-ops bot for youth league work groups: tasks down the tree, reports up, on 10- and 3-minute targets.",
        subcommands: [Serve.self, Check.self, Org.self, Chat.self, Commands.self, Minutes.self, Import.self, Registry.self, Report.self, Audit.self, Backup.self, Restore.self]
    )
}

/// Writes `text` and a line break to standard error.
func printError(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// Writes `text` to standard error; returns the exit code to throw.
func failure(_ text: String, exit code: Int32) -> ExitCode {
    printError(text)
    return ExitCode(code)
}

/// `body`'s value; when it throws, writes the error (after `prefix`) to standard error and exits with `code`.
func orExit<T>(_ code: Int32, _ prefix: String = "", _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw failure(prefix + "\(error)", exit: code) }
}

extension BotConfig {
    /// The unit called `name` (id or name), or a usage error naming the org file.
    func unit(named name: String) throws -> OrgUnit {
        guard let unit = org.unit(named: name) else { throw ValidationError("no unit “\(name)” in \(orgFile)") }
        return unit
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The main config file.")
    var config = "config/leagueops.yaml"
}

/// `leagueops commands`: the command catalogue, as the bot reads it.
struct Commands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the chat commands from the catalogue (commands/).")

    @OptionGroup var options: ConfigOption
    @Flag(help: "Print the README's Markdown table.") var markdown = false

    func run() async throws {
        let config = try loadOrExit(options.config)
        if markdown {
            print(CatalogueDocs.markdown(config.catalogue))
        } else {
            for spec in config.catalogue { print("\(spec.syntax.zh)    \(spec.syntax.en)") }
        }
    }
}
