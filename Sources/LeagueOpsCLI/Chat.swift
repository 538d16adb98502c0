import ArgumentParser
import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import Logging
import ServiceLifecycle

/// `leagueops chat`: a terminal session through the same pipeline as a webhook, printing every
/// message the bot sends to every group. No platform account needed.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to the bot from the terminal as a member of a group.",
        discussion: """
            Type what a cadre would type in the group (/任务 …, 收到, /进度 …). Lines starting with ':' are for you:
              :group <unit id>   speak in another unit's group      :as <member id>   speak as another member
              :wait 3m           move the clock forward (see reminders and escalations)
              :quit              leave
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The unit whose group you speak in.") var group: String
    @Option(name: .customLong("as"), help: "The member you speak as.") var member: String
    @Option(help: "SQLite file to use (default: a fresh in-memory store).") var db: String?

    func run() async throws {
        let config = try loadOrExit(options.config)
        let org = config.org
        var session = Session(unitID: group, memberID: member)
        try session.check(org)
        var logger = Logger(label: "leagueops.chat")
        logger.logLevel = .warning
        var lock: StoreLock?
        let store: any Store
        if let db {
            let opened = try await Self.openOwnStore(db, config: config)
            lock = opened.0
            store = opened.1
        } else {
            store = try SQLiteStore()
        }
        defer { withExtendedLifetime(lock) {} }
        let clock = OffsetClock()
        let app = try LeagueApp(config: config, store: store, clock: clock, transport: PrintingTransport(org: org), logger: logger, maxSleep: 0.2)
        let services = ServiceGroup(configuration: .init(services: app.services().map { .init(service: $0) }, logger: logger))
        print("LeagueOps chat — \(org.unit(group)!.name), as \(org.member(member)!.name). Type /帮助 for commands, :quit to leave.")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }
            var counter = 0
            while let line = readLine() {
                let text = line.trimmingWhitespace()
                if text.isEmpty { continue }
                if text.hasPrefix(":") {
                    if text == ":quit" || text == ":q" { break }
                    session.command(text, org: org, clock: clock, app: app)
                    await settle(app, store)
                    continue
                }
                guard let unit = org.unit(session.unitID), let binding = unit.group, let who = org.member(session.memberID) else { continue }
                counter += 1
                let message = ChatMessage(
                    platform: binding.platform, chat: binding.chat, sender: who.ids[binding.platform] ?? who.id, text: text,
                    messageID: "chat-\(ProcessInfo.processInfo.processIdentifier)-\(counter)", sentAt: clock.now()
                )
                _ = try await app.ingestor.submit(message)
                await settle(app, store)
            }
            await services.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Opens a store file for the terminal session, or exits 75 with the reason: chat prints what the
    /// bot would send and marks it sent, so it must never touch a store a real bot delivers from.
    static func openOwnStore(_ path: String, config: BotConfig) async throws -> (StoreLock, SQLiteStore) {
        func refuse(_ reason: String) -> ExitCode {
            return failure("leagueops chat: \(reason)", exit: 75)
        }
        let real = config.platforms.keys.filter { $0 != "generic" }.sorted()
        guard real.isEmpty else {
            throw refuse(
                "the config names real platforms (\(real.joined(separator: ", "))); chat would print their groups' notices and mark them sent instead of delivering them. Use a config without them, or no --db."
            )
        }
        let lock = try orExit(75, "leagueops chat: ") { try StoreLock(databasePath: path) }
        let store = try SQLiteStore(path: path)
        let writer = try await store.metaValue("writer")
        if writer == "serve" {
            throw refuse("\(path) is a store `leagueops serve` has delivered from; chat would mark its pending notices sent without delivering them. Use a fresh file.")
        }
        if writer == nil, try await store.deliveredCount() > 0 {
            throw refuse("\(path) holds messages sent by another program; chat would mark its pending notices sent without delivering them. Use a fresh file.")
        }
        try await store.setMetaValue("writer", "chat")
        return (lock, store)
    }

    /// Waits until the message is processed and every due outbound message is printed.
    private func settle(_ app: LeagueApp, _ store: any Store) async {
        app.wakeAll()
        for _ in 0..<40 {
            try? await Task.sleep(for: .milliseconds(50))
            let now = app.engine.clock.now()
            let busy =
                (try? await store.read { reader -> Bool in
                    let inbound = try reader.unprocessedInbound(limit: 1).isEmpty == false
                    let outbox = try reader.dueOutbox(at: now, limit: 1).isEmpty == false
                    let timers = try reader.dueTimers(at: now, limit: 1).isEmpty == false
                    return inbound || outbox || timers
                }) ?? false
            if !busy { return }
            app.wakeAll()
        }
    }

    struct Session {
        var unitID: String
        var memberID: String

        func check(_ org: OrgTree) throws {
            guard org.unit(unitID)?.group != nil else { throw ValidationError("no unit “\(unitID)” with a group in the org file") }
            guard org.member(memberID) != nil else { throw ValidationError("no member “\(memberID)” in the org file") }
        }

        mutating func command(_ text: String, org: OrgTree, clock: OffsetClock, app: LeagueApp) {
            let words = String(text.dropFirst()).words()
            switch (words.first, words.count) {
            case ("group", 2):
                if org.unit(words[1])?.group != nil { unitID = words[1]; print("now in \(org.unit(unitID)!.name)") } else { print("no unit \(words[1]) with a group") }
            case ("as", 2):
                if org.member(words[1]) != nil { memberID = words[1]; print("now speaking as \(org.member(memberID)!.name)") } else { print("no member \(words[1])") }
            case ("wait", 2):
                if let seconds = DurationText.seconds(words[1]) { clock.advance(by: seconds); print("(clock moved forward \(words[1]))"); app.wakeAll() } else { print("write it like :wait 3m") }
            default:
                print(":group <unit id> | :as <member id> | :wait 3m | :quit")
            }
        }
    }
}

/// Prints what the bot sends instead of calling a platform.
struct PrintingTransport: HTTPTransport {
    let org: OrgTree

    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        struct Body: Decodable { var group: String; var text: String; var mentions: [String]? }
        if let body = try? JSONDecoder().decode(Body.self, from: request.body) {
            let unit = org.units.first { $0.group?.chat == body.group }
            let mentions = (body.mentions ?? []).compactMap { id in org.units.lazy.flatMap(\.members).first { $0.ids.values.contains(id) }?.name }
            let at = mentions.isEmpty ? "" : " " + mentions.map { "@" + $0 }.joined(separator: " ")
            print("\n┌─ [\(unit?.name ?? body.group)]\(at)\n" + body.text.split(separator: "\n", omittingEmptySubsequences: false).map { "│ " + $0 }.joined(separator: "\n") + "\n└─")
        } else {
            print("\n[\(request.url)] \(String(decoding: request.body, as: UTF8.self))")
        }
        return OutboundResponse(status: 200, body: Data("{}".utf8))
    }
}
