import Foundation
import LeagueConfig
import LeagueCore
import LeagueTestSupport
import Testing

/// Issue 13: the weekly unbound-groups notice is switched on in leagueops.yaml.
@Suite struct UnboundNoticeConfigTests {
    @Test func theSwitchIsReadFromTheConfigAndOffByDefault() throws {
        func load(_ extra: String) throws -> BotConfig {
            let path = try writeTestConfig(orgYAML: "units:\n  - {id: d, name: 区, tier: district}\n", main: "platforms:\n  generic: {secret: s}\n\(extra)\n")
            defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
            return try ConfigLoader.load(path: path)
        }
        #expect(try load("").onboarding.unboundNotice == nil)
        #expect(try load("onboarding: {unbound_notice: off}").onboarding.unboundNotice == nil)
        #expect(try load("onboarding: {unbound_notice: \"mon 09:00\"}").onboarding.unboundNotice == WeeklyTime(weekday: 1, hour: 9, minute: 0))
        #expect(try load("onboarding:\n  unbound_notice: fri 17:30").onboarding.unboundNotice == WeeklyTime(weekday: 5, hour: 17, minute: 30))
        let error = #expect(throws: ConfigError.self, "a bad value must be refused") { try load("onboarding:\n  unbound_notice: weekly") }
        #expect(error?.description.contains("leagueops.yaml:") == true && error?.description.contains("like “mon 09:00”") == true)
    }
}
