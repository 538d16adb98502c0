import AsyncHTTPClient
import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueTestSupport
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import LeagueServer

#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 points 2 and 6 at the HTTP edge.
@Suite(.serialized)
struct SecurityEdgeServerTests {
    @Test func aRefusedCallerGetsAShortGenericText() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            let body = TestBot.body(id: "x", chat: "chat-d", sender: "u-d", text: "收到", ts: bot.clock.now().timeIntervalSince1970)
            let (status, text) = try await bot.post(body: body, headers: ["X-LeagueOps-Signature": "sha256=00"])
            #expect(status == 401)
            #expect(text == "unauthorized\n", "no hint of which check failed: \(text)")
            let (missing, missingText) = try await bot.post(body: body)
            #expect(missing == 401 && missingText == "unauthorized\n")
            let stale = TestBot.body(id: "y", chat: "chat-d", sender: "u-d", text: "收到", ts: bot.clock.now().timeIntervalSince1970 - 3600)
            let (old, oldText) = try await bot.post(body: stale, headers: ["X-LeagueOps-Signature": GenericAdapter.signature(body: stale, secret: testSecret)])
            #expect(old == 401 && oldText == "unauthorized\n")
        }
    }

    @Test func rejectionLogLinesAreEscapedAndRateLimited() {
        #expect(RejectionLog.escape("bad\nFAKE LOG LINE\r\u{1B}[31m\u{2028}x") == "bad\\nFAKE LOG LINE\\r\\u{1B}[31m\\u{2028}x")
        let recorder = LogRecorder()
        let logger = Logger(label: "t") { _ in recorder }
        let log = RejectionLog(perMinute: 3)
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        for i in 0..<50 { log.log(logger, path: "generic", status: 401, reason: "bad \(i)\n", now: t0.addingTimeInterval(Double(i) * 0.1)) }
        #expect(recorder.lines.count == 3, "at most 3 a minute: \(recorder.lines)")
        #expect(recorder.lines.allSatisfy { !$0.contains("\n") })
        log.log(logger, path: "generic", status: 401, reason: "later", now: t0.addingTimeInterval(61))
        #expect(recorder.lines.contains { $0.contains("not logged") && $0.contains("47") }, "\(recorder.lines)")
    }

    @Test func feishuWithoutAnEncryptKeyNeedsInsecurePlainAndCheckWarns() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("feishu-plain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = try writeTestConfig(directory: folder, morePlatforms: "  feishu: {verification_token: vt, insecure_plain: true}")
        let config = try ConfigLoader.load(path: path)
        #expect(config.warnings.contains { $0.message.contains("insecure_plain") && $0.line != nil }, "\(config.warnings)")
        #expect(throws: Never.self) { try PlatformFactory.make(name: "feishu", settings: config.platforms["feishu"] ?? [:]) }
        var settings = config.platforms["feishu"] ?? [:]
        settings["insecure_plain"] = nil
        #expect(throws: PlatformSettingError.self) { try PlatformFactory.make(name: "feishu", settings: settings) }
    }

    @Test func minutesPagesAreNeverCachedNorReferredAndLinkSecretsAreLong() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(bot.port)/minutes/g1/2026-11?sig=00000000000000000000000000000000")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 403)
            #expect(response.headers["Cache-Control"].first == "no-store")
            #expect(response.headers["Referrer-Policy"].first == "no-referrer")
            _ = try await response.body.collect(upTo: 1 << 20)

            let short = try writeTestConfig(extra: "deliberation: {link_secret: too-short}")
            #expect { _ = try ConfigLoader.load(path: short) } throws: { "\($0)".contains("at least 32 bytes") }
            let long = try writeTestConfig(extra: "deliberation: {link_secret: \(String(repeating: "k", count: 32))}")
            #expect(try ConfigLoader.load(path: long).deliberation.linkSecret?.count == 32)
        }
    }

    @Test func anIdleConnectionIsClosed() async throws {
        let path = try writeTestConfig(server: "{host: 127.0.0.1, port: 0, idle_timeout: 1s}")
        try await withLiveBot(configPath: path) { bot in
            #expect(bot.config.server.idleTimeoutSeconds == 1)
            // A client that connects and sends nothing (a slow-loris) is disconnected by the server.
            let started = Date()
            let closed = try await Task.detached { try Self.waitForClose(port: bot.port, limit: 10) }.value
            #expect(closed, "the server closed the idle connection")
            #expect(Date().timeIntervalSince(started) < 8)
        }
    }

    /// Connects to 127.0.0.1:port, sends nothing, and waits (at most `limit` s) for the server to close.
    static func waitForClose(port: Int, limit: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        var timeout = timeval(tv_sec: limit, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }
}

/// Captures log lines (message and metadata) for the rejection-log test.
final class LogRecorder: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let meta = (metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        lock.withLock { stored.append("\(message) \(meta)") }
    }
}
