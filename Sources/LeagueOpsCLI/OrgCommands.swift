import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTransport

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
                let found = try config.unit(named: unit)
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
            printError(note)
        }
    }
}

extension Org {
    /// `leagueops org import FILE [--out org.yaml]`: a roster spreadsheet into the org file.
    struct ImportRoster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Read a roster (.csv in UTF-8 or GB18030, or .xlsx) and write or merge it into the org file.",
            discussion: """
                Columns (Chinese or English headers): 单位编号 unit_id, 单位名称 unit_name, 层级 tier, 上级编号 parent_id,
                姓名 name, 手机 mobile, 角色 roles — one row per person; a unit without people is a row with empty person columns.
                Every bad row is reported as file:line and nothing is written while any row is bad. A column of ID numbers
                is refused. Groups, robot settings, supervisors and platform ids already in the org file are kept.
                """
        )

        @Argument(help: "The roster: .csv or .xlsx.") var file: String
        @Option(help: "The org file to write or merge into (default: the configured one).") var out: String?
        @Flag(help: "Check and report, write nothing.") var dryRun = false
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config = try? ConfigLoader.load(path: options.config)
            guard let target = out ?? config?.orgFile else {
                throw ValidationError("give --out org.yaml (the config \(options.config) could not be loaded to find its org file)")
            }
            let started = Date()
            let table = try orExit(65) { try RosterFile.read(path: file) }
            let existing = try? String(contentsOfFile: target, encoding: .utf8)
            let parsed = try orExit(65) { try OrgFileMerge.parse(existing, file: target) }
            let known = OrgFileMerge.known(in: parsed)
            let rows: [RosterImport.UnitRow]
            switch RosterImport.read(table, tiers: known.tiers, known: known.units) {
            case .success(let value): rows = value
            case .failure(let problems):
                let text = problems.map(\.description).joined(separator: "\n")
                throw failure("\(text)\n\(problems.count) problem(s); nothing was written.", exit: 65)
            }
            let merged = OrgFileMerge.merge(rows, into: parsed)
            // The result must load as an org file before it replaces anything.
            let scratch = URL(fileURLWithPath: target).deletingLastPathComponent().appendingPathComponent(".org-import-\(UUID().uuidString).yaml")
            try merged.yaml.write(to: scratch, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: scratch) }
            var problems: [ConfigProblem] = []
            let platforms = Set(config?.platforms.keys.map { $0 } ?? PlatformFactory.knownPlatforms)
            _ = OrgLoader.load(path: scratch.path, environment: ProcessInfo.processInfo.environment, platforms: platforms, problems: &problems)
            problems.removeAll { $0.message.contains("secret missing") }
            guard problems.isEmpty else {
                let text = problems.map { "\(target) (merged): \($0.line.map { "line \($0): " } ?? "")\($0.message)" }.joined(separator: "\n")
                throw failure("\(text)\nThe merged org would not load; nothing was written.", exit: 65)
            }
            for line in merged.report.details.prefix(50) { print(line) }
            if merged.report.details.count > 50 { print("… and \(merged.report.details.count - 50) more") }
            print("\(file): \(table.rows.count) rows — \(merged.report)")
            if dryRun {
                print("(dry run: \(target) not written)")
            } else {
                try merged.yaml.write(toFile: target, atomically: true, encoding: .utf8)
                print("wrote \(target) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            }
        }
    }
}

extension Org {
    /// `leagueops org status`: groups bound and members registered, and the units to chase.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show groups bound and members registered per tier, and the units still to chase with their supervisors.")

        @OptionGroup var options: ConfigOption
        @Option(help: "Only this unit (id or name) and the units below it.") var unit: String?
        @Option(help: "md (Markdown tables) or csv (the units to chase).") var format = "md"
        @Option(help: "SQLite file to use instead of the configured one.") var db: String?

        func validate() throws {
            guard ["md", "csv"].contains(format) else { throw ValidationError("--format must be md or csv") }
        }

        func run() async throws {
            let config = try loadOrExit(options.config)
            let root = try unit.map { try config.unit(named: $0).id }
            let store = try openStore(config, db: db)
            let (status, conflicts) = try await Onboarding.status(org: config.org, root: root, store: store)
            print(status.report(format: format, language: config.language), terminator: "")
            for conflict in conflicts {
                printError("note: \(conflict.en)")
            }
        }
    }

    /// `leagueops org export`: org.yaml with the bindings learned in chat written in.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the current org (org.yaml plus the chats bound and members registered in chat) as org.yaml.",
            discussion: "Secrets stay as written in the org file (env:NAME); the output can replace org.yaml."
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Option(help: "SQLite file to use instead of the configured one.") var db: String?

        func run() async throws {
            let config = try loadOrExit(options.config)
            let text = try String(contentsOfFile: config.orgFile, encoding: .utf8)
            let parsed = try orExit(65) { try OrgFileMerge.parse(text, file: config.orgFile) }
            let store = try openStore(config, db: db)
            let (yaml, notes, learned) = try await Onboarding.export(parsed, store: store)
            if let out { try yaml.write(toFile: out, atomically: true, encoding: .utf8) } else { print(yaml, terminator: "") }
            var summary = "exported \(learned.chats.count) chat binding(s) and \(learned.members.count) registration(s) learned in chat"
            if let out { summary += " to \(out)" }
            printError((notes.map { "note: " + $0 } + [summary]).joined(separator: "\n"))
        }
    }
}

extension Org {
    /// `leagueops org resolve-ids`: members' platform user ids looked up by mobile through the platform's API.
    struct ResolveIDs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve-ids",
            abstract: "Look up members' platform user ids by their roster mobile (where the app has the permission) and store them.",
            discussion: """
                For every member with a mobile on the roster and no id on the platform yet. DingTalk: client_id and
                client_secret of an internal app allowed to query users by mobile; WeCom: corp_id and corp_secret of an app
                that can see the members; Feishu: app_id and app_secret with contact:user.id:readonly. Only the ids found are
                stored (as if each member had sent /登记), never a mobile; members not found register in chat with /登记.
                """
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "dingtalk, wecom or feishu (default: the one configured).") var platform: String?
        @Option(help: "Only this unit (id or name).") var unit: String?
        @Flag(help: "With --unit: the unit and every unit below it.") var subtree = false
        @Flag(help: "Look up and report, store nothing.") var dryRun = false
        @Option(help: "Seconds between lookup requests (DingTalk allows 20 a second).") var pause = 0.1
        @Option(help: "SQLite file to use instead of the configured one.") var db: String?

        func validate() throws {
            if subtree && unit == nil { throw ValidationError("--subtree needs --unit") }
            guard pause >= 0 else { throw ValidationError("--pause must be 0 or more") }
        }

        func run() async throws {
            let config = try loadOrExit(options.config)
            let lookups = UserDirectory.Kind.allCases.map(\.rawValue).filter { config.platforms[$0] != nil }
            guard let name = platform ?? (lookups.count == 1 ? lookups[0] : nil) else {
                throw ValidationError(
                    lookups.isEmpty
                        ? "no dingtalk, wecom or feishu platform in \(config.file)"
                        : "give --platform (configured: \(lookups.joined(separator: ", ")))")
            }
            guard let settings = config.platforms[name] else { throw ValidationError("platform \(name) is not configured in \(config.file)") }
            let directory: UserDirectory
            do { directory = try UserDirectory.make(platform: name, settings: settings) } catch {
                throw ValidationError("\(config.file): \(error.description)")
            }
            let units = try unit.map { name in
                let found = try config.unit(named: name)
                return [found.id] + (subtree ? config.org.descendants(of: found.id).map(\.id) : [])
            }
            let store = try openStore(config, db: db)
            let report: Onboarding.ResolveReport
            do {
                report = try await Onboarding.resolveMemberIDs(
                    units: units, org: config.org, store: store, directory: directory,
                    transport: AsyncHTTPClientTransport(), now: Date(), dryRun: dryRun, pause: pause)
            } catch let problem as UserDirectory.Failure {
                throw failure("\(problem.description)\nnothing was stored.", exit: 69)
            }
            for line in report.lines() { print(line) }
            if dryRun { print("(dry run: nothing stored)") }
            if report.stopped != nil { throw ExitCode(69) }
        }
    }
}
