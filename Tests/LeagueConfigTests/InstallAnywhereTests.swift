import Foundation
import LeagueConfig
import LeagueCore
import LeagueTestSupport
import Testing

/// Issue 13, point 6: the binary carries the catalogue; paths in the config are relative to its folder.
@Suite struct InstallAnywhereTests {
    @Test func builtInCatalogueIsTheCommandsFolder() throws {
        let folder = repositoryRoot.appendingPathComponent("commands")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(DefaultCatalogue.files.map(\.name) == files, "commands/ changed: run scripts/embed-catalogue")
        for (name, text) in DefaultCatalogue.files {
            let onDisk = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk.trimmingCharacters(in: .newlines) == text.trimmingCharacters(in: .newlines), "commands/\(name) changed: run scripts/embed-catalogue")
        }
        var problems: [ConfigProblem] = []
        let builtIn = CatalogueLoader.loadBuiltIn(problems: &problems)
        #expect(problems.isEmpty)
        #expect(builtIn.map(\.id) == CatalogueLoader.load(directory: folder.path, problems: &problems).map(\.id))
    }

    @Test func configOutsideTheCheckoutResolvesPathsAgainstItsFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-etc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tree"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "platforms:\n  generic: {secret: s}\nstore: {sqlite: data/bot.sqlite}\norg: tree/org.yaml\n"
            .write(to: folder.appendingPathComponent("leagueops.yaml"), atomically: true, encoding: .utf8)
        try "units:\n  - {id: d, name: 区, tier: district}\n".write(to: folder.appendingPathComponent("tree/org.yaml"), atomically: true, encoding: .utf8)
        // Load through a relative path from another working directory.
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(folder.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let config = try ConfigLoader.load(path: "leagueops.yaml")
        FileManager.default.changeCurrentDirectoryPath("/")
        #expect(config.store.sqlitePath == folder.appendingPathComponent("data/bot.sqlite").standardizedFileURL.path)
        #expect(config.orgFile == folder.appendingPathComponent("tree/org.yaml").standardizedFileURL.path)
        #expect(config.commandsDirectory.isEmpty)
        #expect(config.catalogue.contains { $0.id == "bind" } && config.catalogue.count == DefaultCatalogue.files.count)
    }

    @Test func aCommandsFolderOverridesTheBuiltInCatalogue() throws {
        let path = try writeTestConfig(orgYAML: "units:\n  - {id: d, name: 区, tier: district}\n", main: "platforms:\n  generic: {secret: s}\ncommands: cmds\nonboarding: {code_ttl: 3d}\n")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("cmds"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("commands/help.yaml"), to: folder.appendingPathComponent("cmds/help.yaml"))
        let config = try ConfigLoader.load(path: path)
        #expect(config.catalogue.map(\.id) == ["help"])
        #expect(config.onboarding.codeTTL == 3 * 86_400)
        #expect(config.commandsDirectory == folder.appendingPathComponent("cmds").standardizedFileURL.path)
    }

    @Test func aGroupWithoutChatIsAcceptedAsToBeBound() throws {
        let org = "units:\n  - {id: d, name: 区, tier: district, group: {platform: generic}}\n  - {id: t, name: 镇, tier: town, parent: d, group: {chat: x}}\n"
        let path = try writeTestConfig(orgYAML: org, main: "platforms:\n  generic: {secret: s}\n")
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: path) }
        #expect(error?.description.contains("org.yaml:3") == true)
        #expect(error?.description.contains("org.yaml:2") == false)
    }
}
