import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeagueStore

/// `leagueops audit [--action minutes.] [--unit ID] [--since 2026-11-01] [--limit 50] [--format text|csv]`
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the audit log, newest first: registry queries, dashboard views, minutes views and exports, operator access.",
        discussion: """
            Each line: time, allowed/refused, action, who (a member id, a link's short name or operator:<login>), unit, detail.
            Actions include query.youth, query.minutes, dashboard.view, minutes.view, minutes.export, registry.show, registry.import.
            --action minutes. (ending in a dot) lists every action starting with it.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, csv }

    @OptionGroup var options: ConfigOption
    @Option(help: "SQLite file (default: store.sqlite from the config).") var db: String?
    @Option(help: "Only this action, or every action starting with it when it ends in a dot (minutes.).") var action: String?
    @Option(help: "Only entries about this unit (id or exact name).") var unit: String?
    @Option(help: "Only entries on or after this day (YYYY-MM-DD, in the bot's time zone).") var since: String?
    @Option(help: "At most this many entries.") var limit = 50
    @Option(help: "text or csv.") var format: Format = .text

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let config = try loadOrExit(options.config)
        let unitID = try unit.map { try config.unit(named: $0).id }
        var start: Date?
        if let since {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = config.timeZone
            formatter.dateFormat = "yyyy-MM-dd"
            guard let day = formatter.date(from: since) else { throw ValidationError("--since must look like 2026-11-01, not “\(since)”") }
            start = day
        }
        let store = try openStore(config, db: db, mustExist: true)
        let entries = try await store.auditLog(limit: limit, action: action, unitID: unitID, since: start)
        switch format {
        case .text:
            for entry in entries { print(entry.line(timeZone: config.timeZone)) }
        case .csv:
            print(AuditEntry.csvHeader)
            for entry in entries { print(entry.csvRow(timeZone: config.timeZone)) }
        }
        printError("\(entries.count) audit entr\(entries.count == 1 ? "y" : "ies")")
    }
}
