import Foundation
import LeagueConfig
import LeagueCore
import Testing

/// Issue 13: the weekly unbound-groups notice is switched on in leagueops.yaml.
@Suite struct UnboundNoticeConfigTests {
    @Test func theSwitchIsReadFromTheConfigAndOffByDefault() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unbound-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "units:\n  - {id: d, name: 区, tier: district}\n".write(to: folder.appendingPathComponent("org.yaml"), atomically: true, encoding: .utf8)
        func load(_ extra: String) throws -> BotConfig {
            let path = folder.appendingPathComponent("leagueops.yaml")
            try "platforms:\n  generic: {secret: s}\n\(extra)\n".write(to: path, atomically: true, encoding: .utf8)
            return try ConfigLoader.load(path: path.path)
        }
        #expect(try load("").onboarding.unboundNotice == nil)
        #expect(try load("onboarding: {unbound_notice: off}").onboarding.unboundNotice == nil)
        #expect(try load("onboarding: {unbound_notice: \"mon 09:00\"}").onboarding.unboundNotice == WeeklyTime(weekday: 1, hour: 9, minute: 0))
        #expect(try load("onboarding:\n  unbound_notice: fri 17:30").onboarding.unboundNotice == WeeklyTime(weekday: 5, hour: 17, minute: 30))
        do {
            _ = try load("onboarding:\n  unbound_notice: weekly")
            Issue.record("a bad value must be refused")
        } catch let error as ConfigError {
            #expect(error.description.contains("leagueops.yaml:") && error.description.contains("like “mon 09:00”"))
        }
    }
}
