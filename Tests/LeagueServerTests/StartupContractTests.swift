import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Logging
import Testing

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
        let path = try writeTestConfig(directory: folder)
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "commands: \(repositoryRoot.appendingPathComponent("commands").path)", with: "commands: \(commands.path)")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
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
}
