import Foundation
import LeagueConfig
import LeagueCore
import LeagueTestSupport
import Testing

struct ConfigTests {
    var commands: String { repositoryRoot.appendingPathComponent("commands").path }

    func problems(main: String, org: String, environment: [String: String] = [:]) throws -> [ConfigProblem] {
        let path = try writeTestConfig(orgYAML: org, main: main)
        do {
            _ = try ConfigLoader.load(path: path, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func theDemoConfigIsValid() throws {
        let config = try ConfigLoader.load(path: repositoryRoot.appendingPathComponent("config/leagueops.yaml").path)
        #expect(config.org.root?.name == "任城区")
        #expect(config.org.unit(named: "后营社区") != nil)
        #expect(config.org.unit(named: "汇翠园社区") != nil)
        #expect(config.org.units.contains { $0.tier == "grid" })
        #expect(config.tasks.urgentSeconds == 180 && config.tasks.routineSeconds == 600)
    }

    @Test func everyOrgProblemIsReportedWithItsLine() throws {
        let main = "platforms:\n  generic: {secret: s}\norg: org.yaml\ncommands: \(commands)\n"
        let org = """
            units:
              - id: a
                name: A
                tier: district
                group: {platform: generic, chat: c1}
              - id: b
                name: B
                tier: town
                parent: nowhere
                group: {platform: generic, chat: c1}
              - id: a
                name: A again
                tier: town
                parent: a
              - id: x
                name: X
                tier: planet
                parent: y
              - id: y
                name: Y
                tier: town
                parent: x
                group: {platform: wecom, chat: c9}
            """
        let found = try problems(main: main, org: org)
        func has(_ line: Int, _ fragment: String) -> Bool {
            found.contains { $0.line == line && $0.message.contains(fragment) && $0.file.hasSuffix("org.yaml") }
        }
        #expect(has(9, "unknown parent “nowhere”"), "\(found)")
        #expect(has(10, "bound twice"), "\(found)")
        #expect(has(11, "duplicate unit id “a”"), "\(found)")
        #expect(has(17, "tier “planet”"), "\(found)")
        #expect(found.contains { $0.message.contains("cycle") }, "\(found)")
        #expect(has(23, "platform “wecom” is not configured"), "\(found)")
    }

    @Test func badDurationsSecretsAndKeysNameTheLineAndTheFix() throws {
        let main = """
            targets: {routine: ten minutes, urgent: 3m}
            platforms:
              generic: {secret: env:LEAGUEOPS_TEST_MISSING}
            outbox: {max_atempts: 3}
            org: org.yaml
            commands: \(commands)
            """
        let org = "units:\n  - {id: a, name: A, tier: district}\n"
        let found = try problems(main: main, org: org)
        #expect(found.contains { $0.line == 1 && $0.message.contains("not parseable") && $0.message.contains("3m") }, "\(found)")
        #expect(found.contains { $0.line == 3 && $0.message.contains("LEAGUEOPS_TEST_MISSING") }, "\(found)")
        #expect(found.contains { $0.line == 4 && $0.message.contains("max_atempts") }, "\(found)")
        let fine = try problems(
            main: main.replacingOccurrences(of: "ten minutes", with: "10m").replacingOccurrences(of: "max_atempts", with: "max_attempts"),
            org: org, environment: ["LEAGUEOPS_TEST_MISSING": "from-env"])
        #expect(fine.isEmpty, "\(fine)")
    }

    @Test func yamlSyntaxErrorsCarryTheirLine() throws {
        let found = try problems(main: "server: {host: 127.0.0.1\nport: [\n", org: "units: []\n")
        #expect(found.contains { $0.line != nil && $0.message.contains("not valid YAML") }, "\(found)")
    }

    @Test func generatedOrgOfTheRealDistrictSizeLoads() throws {
        let yaml = OrgGenerator.yaml(towns: 15, communities: 109, grids: 1034)
        let path = try writeTestConfig(orgYAML: yaml, main: "platforms:\n  generic: {secret: s}\norg: org.yaml\ncommands: \(commands)\n")
        let config = try ConfigLoader.load(path: path, environment: [:])
        let tiers = Dictionary(grouping: config.org.units, by: \.tier).mapValues(\.count)
        #expect(tiers == ["district": 1, "town": 15, "community": 109, "grid": 1034])
        #expect(config.org.units.filter { $0.group != nil }.count == 1159)
    }
}
