import Foundation
import LeagueConfig
import LeagueCore
import LeagueStore
import LeagueTestSupport
import Logging
import Testing

@testable import LeagueServer

/// What a feature declares is checked when the bot starts, not at the first message that needs it.
@Suite("Start-up contracts: every catalogue command has a handler")
struct StartupContractTests {
    /// A `commands:` folder with a command this build has no handler for refuses to start, naming it
    /// and the folder; before, the bot started and answered the command with "not available".
    @Test func aCatalogueCommandWithoutAHandlerIsAStartUpError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-contract-\(UUID().uuidString)")
        let commands = folder.appendingPathComponent("commands")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("commands"), to: commands)
        try """
        id: survey
        order: 995
        names: {zh: [问卷], en: [survey]}
        args: []
        syntax:
          zh: "/问卷"
          en: "/survey"
        help:
          zh: "发起问卷。"
          en: "Start a survey."
        examples:
          - text: "/问卷"
            expect: {}
        """.write(to: commands.appendingPathComponent("survey.yaml"), atomically: true, encoding: .utf8)
        let path = try writeTestConfig(directory: folder, commands: commands.path)
        let config = try ConfigLoader.load(path: path)
        #expect(config.catalogue.contains { $0.id == "survey" })
        var logger = Logger(label: "contract")
        logger.logLevel = .critical
        let error = #expect(throws: ConfigError.self) {
            _ = try LeagueApp(config: config, store: try SQLiteStore(), transport: FakeTransport(), logger: logger)
        }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("survey") && message.contains(commands.path), "\(message)")

        // The shipped catalogue is fully handled.
        let shipped = try ConfigLoader.load(path: try writeTestConfig())
        #expect(throws: Never.self) { _ = try LeagueApp(config: shipped, store: try SQLiteStore(), transport: FakeTransport(), logger: logger) }
    }

    /// ServiceLifecycle names every service with `"\(service)"` when a group is made: a service must not
    /// print the engine's whole config and org (seconds at start-up for the real district, growing with it).
    @Test func serviceNamesStayShortWhateverTheOrg() throws {
        var logger = Logger(label: "contract")
        logger.logLevel = .critical
        let app = try LeagueApp(config: try ConfigLoader.load(path: try writeTestConfig()), store: try SQLiteStore(), transport: FakeTransport(), logger: logger)
        for service in app.services() {
            let name = "\(service)"
            #expect(name.count < 200, "\(type(of: service)) is named with \(name.count) characters: \(name.prefix(120))…")
        }
        #expect("\(app.engine)".count < 100)
    }

    /// Timer kinds are a declared contract: a kind without a handler, a handler for an undeclared
    /// kind and a kind or command registered twice are start-up errors, not timers put aside at 3 a.m.
    @Test func timerKindsAndRegistrationsAreCheckedAtStartUp() throws {
        #expect(Engine.register(Engine.features).problems.isEmpty, "the shipped features must satisfy their contracts")

        enum Stray: Feature {
            static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
                timers[TimerKind(rawValue: "survey-reminder")] = { _ in }
                commands["task"] = { _ in }
            }
        }
        let withStray = Engine.register(Engine.features + [Stray.self]).problems
        #expect(withStray.contains { $0.contains("survey-reminder") && $0.contains("not declared") }, "\(withStray)")
        #expect(withStray.contains { $0.contains("command task has two handlers") }, "\(withStray)")

        // A build whose features miss a declared kind says which one.
        let withoutTasks = Engine.register(Engine.features.filter { ObjectIdentifier($0) != ObjectIdentifier(TaskFeature.self) }).problems
        #expect(withoutTasks.contains { $0.contains("timer kind task-step is declared but no feature handles it") }, "\(withoutTasks)")
    }
}
