import Foundation
import GRDB
import LeagueConfig
import LeaguePlatforms
import LeagueTestSupport

/// A benchmark workspace: a generated org of the real size and a config in a temporary folder,
/// written by LeagueTestSupport's `writeTestConfig` (the generic platform signs with `testSecret`).
struct BenchWorkspace {
    let folder: URL
    let configPath: String
    var databasePath: String { folder.appendingPathComponent("bot.sqlite").path }

    /// The store opened read-only, for what a scenario checks after the load (the server keeps writing it).
    func readOnlyDatabase() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: databasePath, configuration: configuration)
    }

    /// - Parameters:
    ///   - synchronous: SQLite `synchronous` mode, `full` or `normal`.
    ///   - scale: an org `scale` times the district (15, 109 and 1,034 times `scale` towns, communities and grids).
    ///   - publicURL: `server.public_url` (links in chat answers, e.g. /看板).
    init(repository: URL, outboundPort: Int, synchronous: String, scale: Int = 1, publicURL: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-bench-\(UUID().uuidString)")
        configPath = try writeTestConfig(
            orgYAML: OrgGenerator.yaml(towns: 15 * scale, communities: 109 * scale, grids: 1034 * scale), extra: "locale: zh-Hans", directory: folder,
            outbox: "{max_attempts: 8, backoff: 1s, max_backoff: 5m, timeout: 10s}", outboundPort: outboundPort,
            synchronous: synchronous, server: "{host: 127.0.0.1, port: 0\(publicURL.map { ", public_url: \"\($0)\"" } ?? "")}",
            commands: repository.appendingPathComponent("commands").path)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// A signed generic webhook request.
    static func webhook(id: String, chat: String, sender: String, text: String, ts: Double = Date().timeIntervalSince1970) -> [UInt8] {
        let body = TestBot.body(id: id, chat: chat, sender: sender, text: text, ts: ts)
        return HTTPConnection.request(
            method: "POST", path: "/webhook/generic",
            headers: [
                ("Content-Type", "application/json"),
                (GenericAdapter.signatureHeader, GenericAdapter.signature(body: body, secret: testSecret)),
            ], body: Array(body))
    }
}

extension DatabaseQueue {
    /// `SELECT COUNT(*) FROM <rest>`.
    func count(_ rest: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM " + rest) ?? 0 }
    }
}

/// What the benchmarks read of `leagueops serve` while it runs.
extension ChildBot {
    var pid: Int32 { process.processIdentifier }

    /// Peak resident set size so far (VmHWM), in MiB.
    var peakRSSMiB: Double {
        Self.status(pid: pid, field: "VmHWM:").map { $0 / 1024 } ?? .nan
    }

    /// Current resident set size (VmRSS), in MiB.
    var rssMiB: Double {
        Self.status(pid: pid, field: "VmRSS:").map { $0 / 1024 } ?? .nan
    }

    /// CPU time the server has used so far (user + system, all threads), in seconds.
    var cpuSeconds: Double {
        // /proc/<pid>/stat: the fields after the ")" that ends the command name; utime and stime are the 14th and 15th.
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return .nan }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func status(pid: Int32, field: String) -> Double? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return nil }
        return Double(line.dropFirst(field.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
}

/// Runs `binary` to its end, sampling its peak RSS every `sample` seconds while it runs (VmHWM; its
/// /proc entry is gone once it is waited for).
/// - Returns: the exit status, the whole process's wall time, the peak RSS in MiB, and its stdout and stderr together.
func runMeasured(_ binary: String, _ arguments: [String], sample: Double) async throws -> (status: Int32, wall: Double, peakMiB: Double, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let start = Date()
    try process.run()
    let pid = process.processIdentifier
    let sampler = Task.detached { () -> Double in
        var peak = 0.0
        while !Task.isCancelled {
            if let hwm = ChildBot.status(pid: pid, field: "VmHWM:") { peak = max(peak, hwm / 1024) }
            try? await Task.sleep(for: .milliseconds(Int64(sample * 1000)))
        }
        return peak
    }
    let text = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let wall = Date().timeIntervalSince(start)
    sampler.cancel()
    return (process.terminationStatus, wall, await sampler.value, String(decoding: text, as: UTF8.self))
}
