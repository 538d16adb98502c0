import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore

/// The operator's name for the audit log: `operator:<login>`.
func operatorName() -> String {
    "operator:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown")
}

/// The store at `db` or the configured one; with `mustExist`, a usage error when there is no such file.
func openStore(_ config: BotConfig, db: String?, mustExist: Bool = false) throws -> SQLiteStore {
    let path = db ?? config.store.sqlitePath
    guard !mustExist || FileManager.default.fileExists(atPath: path) else { throw ValidationError("no store at \(path) (give one with --db)") }
    return try SQLiteStore(path: path, synchronous: config.store.synchronous)
}

/// `leagueops import …`
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import data into the store.", subcommands: [Youth.self])

    /// `leagueops import youth FILE.csv`
    struct Youth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the youth registry from a UTF-8 CSV (grid,name,age_band,status,in_difficulty,category,contact).",
            discussion: """
                Every row is checked first; one bad row and nothing is imported (each problem is listed by line).
                A column of national ID numbers (id_number, 身份证, 身份证号) makes the whole file refused.
                Each grid named in the file has its rows replaced; other grids keep theirs.
                """
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "SQLite file (default: store.sqlite from the config).") var db: String?
        @Argument(help: "The CSV file.") var file: String

        func run() async throws {
            let config = try loadOrExit(options.config)
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw failure("cannot read \(file) as UTF-8 text", exit: 66)
            }
            let store = try openStore(config, db: db)
            do {
                let summary = try await RegistryImporter.importYouth(
                    text, org: config.org, store: store, actor: operatorName(),
                    source: URL(fileURLWithPath: file).lastPathComponent, now: Date())
                print("Imported \(summary.rows) rows for \(summary.grids) grid(s); their previous rows were replaced.")
            } catch let errors as ImportErrors {
                throw failure("\(file): \(errors.description)", exit: 65)
            }
        }
    }
}

/// `leagueops registry …`
struct Registry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Operator access to the youth registry.", subcommands: [Show.self])

    /// `leagueops registry show --unit <id> --reason …`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the per-person rows of a unit's subtree (operator only; every use is written to the audit log).",
            discussion: "This is the only way to see names and contacts: they never appear in a chat."
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "SQLite file (default: store.sqlite from the config).") var db: String?
        @Option(help: "The unit whose subtree to show.") var unit: String
        @Option(help: "Why you are looking (written to the audit log).") var reason: String

        func run() async throws {
            let config = try loadOrExit(options.config)
            let node = try orExit(64) { try config.unit(named: unit) }
            let store = try openStore(config, db: db)
            // Read on a reader connection; only the audit row is written (before anything is printed).
            let rows = try await AuditedReads.youthRows(store, org: config.org, unit: node, actor: operatorName(), reason: reason)
            print("grid,name,age_band,status,in_difficulty,category,contact")
            for row in rows {
                print(CSV.row([row.gridID, row.name, row.ageBand.rawValue, row.status.rawValue, row.inDifficulty ? "yes" : "no", row.category, row.contact]))
            }
            printError("\(rows.count) row(s) of \(node.name); this access was written to the audit log.")
        }
    }
}

/// `leagueops report …`
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reports.", subcommands: [Monthly.self])

    /// `leagueops report monthly --month 2026-11 [--unit id] [--format md|csv|html] [--out FILE]`
    struct Monthly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The monthly assessment from the event log (reproducible for any past month).",
            discussion: """
                With --generated the events are not read from the store but generated for the config's org
                (seeded, deterministic) — the benchmark: e.g. an org from `leagueops org generate` (1,034 grids)
                and --tasks 30000. The time taken is printed to standard error.
                """
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "SQLite file (default: store.sqlite from the config).") var db: String?
        @Option(help: "The month, YYYY-MM.") var month: String
        @Option(help: "The unit whose subtree is assessed (default: the root).") var unit: String?
        @Option(help: "md, csv or html.") var format: String = "md"
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Flag(help: "Generate a month of events for the org instead of reading the store (benchmark).") var generated = false
        @Option(help: "With --generated: how many tasks.") var tasks = 30_000
        @Option(help: "With --generated: the random seed.") var seed: UInt64 = 2026

        func validate() throws {
            guard AssessmentReport.Format(rawValue: format) != nil else { throw ValidationError("--format must be md, csv or html") }
            guard RegistryScope.monthRange(month, timeZone: .gmt) != nil else { throw ValidationError("--month must look like 2026-11") }
        }

        func run() async throws {
            let config = try loadOrExit(options.config)
            guard let range = RegistryScope.monthRange(month, timeZone: config.timeZone), let format = AssessmentReport.Format(rawValue: format) else { return }
            let scope = try unit.map { name in try orExit(64) { try config.unit(named: name).id } }
            let clock = ContinuousClock()
            let events: [EventRecord]
            var minutes: Set<String> = []
            var timings: [String] = []
            let loadStart = clock.now
            if generated {
                events = EventGenerator.month(org: config.org, start: range.start, tasks: tasks, seed: seed)
                minutes = EventGenerator.unitsWithMinutes(org: config.org, seed: seed)
                timings.append("generated \(events.count) events in \(clock.now - loadStart)")
            } else {
                let store = try openStore(config, db: db)
                (events, minutes) = try await AuditedReads.month(store, month: month, range: range, scope: scope, actor: operatorName())
                timings.append("read \(events.count) events in \(clock.now - loadStart)")
            }
            let start = clock.now
            let report = Assessment.compute(
                events: events, org: config.org, scopeUnitID: scope, minutesUnitIDs: minutes, month: month,
                settings: config.registry.assessment)
            let computed = clock.now
            let text = report.render(format, org: config.org, language: config.language)
            let rendered = clock.now
            timings.append("computed \(report.units.count) units in \(computed - start), rendered \(format.rawValue) in \(rendered - computed); report total \(rendered - start)")
            if let out {
                try text.write(toFile: out, atomically: true, encoding: .utf8)
            } else {
                print(text, terminator: "")
            }
            printError(timings.joined(separator: "\n"))
        }
    }
}
