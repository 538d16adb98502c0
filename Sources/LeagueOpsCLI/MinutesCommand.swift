import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore

/// `leagueops minutes …`
struct Minutes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliberation-day minutes.", subcommands: [Export.self])

    /// `leagueops minutes export --unit <id> [--month 2026-11] [--format md|html] [--subtree] [--out FILE]`
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a unit's minutes of a month as Markdown or a standalone HTML page.",
            discussion: "Reads the store at store.sqlite of the config (or --db). Without --out the document goes to standard output. Every export is written to the audit log (`leagueops audit`)."
        )

        enum Format: String, ExpressibleByArgument, CaseIterable { case md, html }

        @OptionGroup var options: ConfigOption
        @Option(help: "The unit (id or exact name).") var unit: String
        @Option(help: "The month, like 2026-11 (default: this month in the bot's time zone).") var month: String?
        @Option(help: "md (Markdown) or html.") var format: Format = .md
        @Flag(help: "Include every unit below the given one.") var subtree = false
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Option(help: "SQLite file to read (default: store.sqlite of the config).") var db: String?

        func run() async throws {
            let config = try loadOrExit(options.config)
            let found = try config.unit(named: unit)
            let settings = config.deliberation
            let chosen: DeliberationMonth
            if let month {
                guard let parsed = DeliberationMonth(text: month) else { throw ValidationError("--month must look like 2026-11, not “\(month)”") }
                chosen = parsed
            } else {
                chosen = DeliberationMonth(containing: Date(), timeZone: settings.timeZone)
            }
            let store = try openStore(config, db: db, mustExist: true)
            let monthText = chosen.description
            // Every export is in the audit log before anything is printed (`leagueops audit` lists it).
            let meetings = try await AuditedReads.minutes(
                store, org: config.org, unit: found, month: monthText, subtree: subtree,
                format: format.rawValue, actor: operatorName())
            let renderer = MinutesRenderer(language: config.language, timeZone: settings.timeZone)
            let title = config.language.pick("\(found.name) \(monthText) 议事纪要", "Minutes of \(found.name), \(monthText)")
            let document = format == .md ? renderer.markdown(meetings, title: title) : renderer.html(meetings, title: title)
            if let out {
                try Data(document.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                // What people said in a meeting: owner-only, like the store.
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: out)
                printError("wrote \(meetings.count) meeting(s) to \(out)")
            } else {
                print(document, terminator: "")
            }
        }
    }
}
