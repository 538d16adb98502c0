import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore

extension Org {
    /// `leagueops org codes`: one binding code per unit still without a group.
    struct Codes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one binding code per unit not yet bound to a group (typed in the group as /绑定 CODE).",
            discussion: """
                Codes are single use and expire after onboarding.code_ttl (default 14d); only their hashes are stored.
                Printing codes again for a unit replaces its earlier unused code. Units already bound are skipped.
                """
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "Only this unit (id or name).") var unit: String?
        @Flag(help: "With --unit: the unit and every unit below it.") var subtree = false
        @Option(help: "md (a Markdown table) or csv (UTF-8 with BOM, for Excel).") var format = "md"
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Option(help: "SQLite file to use instead of the configured one.") var db: String?

        func validate() throws {
            guard ["md", "csv"].contains(format) else { throw ValidationError("--format must be md or csv") }
            if subtree && unit == nil { throw ValidationError("--subtree needs --unit") }
        }

        func run() async throws {
            let config = try loadOrExit(options.config)
            let org = config.org
            var units = org.units
            if let unit {
                guard let found = org.unit(named: unit) else { throw ValidationError("no unit “\(unit)” in \(config.orgFile)") }
                units = [found] + (subtree ? org.descendants(of: found.id) : [])
            }
            let store = try openStore(config, db: db)
            let (issued, bound) = try await Onboarding.issueCodes(
                for: units, org: org, store: store, ttl: config.onboarding.codeTTL, now: Date(), generator: SystemRandomNumberGenerator()
            )
            var text = Onboarding.render(issued, format: format, language: config.language, timeZone: config.timeZone)
            if let out {
                if format == "csv" { text = "\u{FEFF}" + text }
                try text.write(toFile: out, atomically: true, encoding: .utf8)
            } else {
                print(text, terminator: "")
            }
            var note = "\(issued.count) codes issued, valid for \(DurationText.human(config.onboarding.codeTTL, language: .en))"
            if !bound.isEmpty { note += "; \(bound.count) units already bound were skipped" }
            if let out { note += "; written to \(out)" }
            FileHandle.standardError.write(Data((note + "\n").utf8))
        }
    }
}
