import Foundation
import LeagueCore
import LeaguePlatforms
import Testing

@Suite("Connection settings: mode, keepalive, dead_after, loopback-only plain URLs")
struct ConnectionSettingsTests {
    @Test func modeDefaultsToWebhookAndIsCheckedPerPlatform() throws {
        #expect(try ConnectionSettings.parse(platform: "dingtalk", settings: [:]).mode == .webhook)
        #expect(try ConnectionSettings.parse(platform: "dingtalk", settings: ["mode": "stream"]).mode == .stream)
        #expect(try ConnectionSettings.parse(platform: "feishu", settings: ["mode": "long_connection"]).mode == .longConnection)
        #expect(throws: PlatformSettingError(platform: "dingtalk", key: "mode", problem: "must be webhook or stream, not “long_connection”")) {
            try ConnectionSettings.parse(platform: "dingtalk", settings: ["mode": "long_connection"])
        }
        #expect(throws: PlatformSettingError.self) { try ConnectionSettings.parse(platform: "generic", settings: ["mode": "stream"]) }
    }

    /// A misspelt key (here `client_secert`) is reported, not silently ignored while the bot falls back
    /// to a default or refuses with a misleading "is required".
    @Test func anUnknownPlatformKeyIsReportedWithTheKnownOnes() throws {
        let settings = ["mode": "stream", "client_id": "k", "client_secret": "s", "client_secert": "s"]
        let error = #expect(throws: PlatformSettingError.self) { try PlatformFactory.make(name: "dingtalk", settings: settings) }
        #expect(error?.key == "client_secert")
        #expect(error?.description.contains("unknown key") == true && error?.description.contains("client_secret") == true)
        var fixed = settings
        fixed["client_secert"] = nil
        #expect(throws: Never.self) { try PlatformFactory.make(name: "dingtalk", settings: fixed) }
        // Every key a platform reads is known: each documented example config passes.
        #expect(throws: Never.self) {
            try PlatformFactory.make(name: "feishu", settings: ["mode": "long_connection", "app_id": "a", "app_secret": "b", "keepalive": "2m", "dead_after": "5m"])
        }
        // `org resolve-ids` reads WeCom's corp_id / corp_secret from the same section.
        #expect(throws: Never.self) {
            try PlatformFactory.make(name: "wecom", settings: ["mode": "long_connection", "bot_id": "b", "bot_secret": "s", "corp_id": "c", "corp_secret": "x"])
        }
    }

    @Test func keepaliveAndDeadAfterAreDurationsAndDeadAfterIsLonger() throws {
        let settings = try ConnectionSettings.parse(platform: "dingtalk", settings: ["keepalive": "500ms", "dead_after": "2s"])
        #expect(settings.keepalive == 0.5)
        #expect(settings.deadAfter == 2)
        #expect(try ConnectionSettings.parse(platform: "wecom", settings: [:]).keepalive == 30)
        #expect(throws: PlatformSettingError.self) { try ConnectionSettings.parse(platform: "dingtalk", settings: ["keepalive": "soon"]) }
        #expect(throws: PlatformSettingError.self) { try ConnectionSettings.parse(platform: "dingtalk", settings: ["keepalive": "60s", "dead_after": "30s"]) }
    }

    @Test func plainSchemesOnlyForLoopback() throws {
        func url(_ value: String, secure: String = "https") throws -> String {
            try ConnectionSettings.url(["u": value], platform: "dingtalk", key: "u", default: "https://api.dingtalk.com", secure: secure)
        }
        #expect(try url("https://api.dingtalk.com/") == "https://api.dingtalk.com")
        #expect(try url("http://127.0.0.1:8123") == "http://127.0.0.1:8123")
        #expect(try url("http://localhost:1") == "http://localhost:1")
        #expect(try url("http://[::1]:1") == "http://[::1]:1")
        #expect(try url("ws://127.0.0.1:9", secure: "wss") == "ws://127.0.0.1:9")
        #expect(throws: PlatformSettingError.self) { try url("http://api.dingtalk.com") }
        #expect(throws: PlatformSettingError.self) { try url("ws://10.0.0.1:9", secure: "wss") }
        #expect(throws: PlatformSettingError.self) { try url("ftp://127.0.0.1") }
        #expect(throws: PlatformSettingError.self) { try url("http://127.0.0.1.evil.com") }
    }

    @Test func dingtalkStreamModeNeedsClientCredentialsNotTheWebhookSecret() throws {
        #expect(throws: PlatformSettingError(platform: "dingtalk", key: "client_id", problem: "is required")) {
            try PlatformFactory.make(name: "dingtalk", settings: ["mode": "stream", "client_secret": "s"])
        }
        _ = try PlatformFactory.make(name: "dingtalk", settings: ["mode": "stream", "client_id": "ding1", "client_secret": "s"])
        #expect(throws: PlatformSettingError.self) {
            try PlatformFactory.make(name: "dingtalk", settings: ["mode": "stream", "client_id": "ding1", "client_secret": "s", "api_base_url": "http://example.com"])
        }
    }
}
