import Foundation
import GRDB
import LeagueConfig
import LeaguePlatforms

/// A benchmark workspace: a generated org of the real size and a config in a temporary folder.
struct BenchWorkspace {
    let folder: URL
    let configPath: String
    let databasePath: String
    static let secret = "bench-secret"

    /// The store opened read-only, for what a scenario checks after the load (the server keeps writing it).
    func readOnlyDatabase() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: databasePath, configuration: configuration)
    }

    /// - Parameters:
    ///   - synchronous: SQLite `synchronous` mode, `full` or `normal`.
    ///   - targets: the `targets:` block (routine/urgent acknowledgement targets).
    ///   - publicURL: `server.public_url` (links in chat answers, e.g. /看板).
    init(
        repository: URL, outboundPort: Int, synchronous: String, towns: Int = 15, communities: Int = 109, grids: Int = 1034,
        targets: String = "{routine: 10m, urgent: 3m}", publicURL: String? = nil
    ) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        databasePath = folder.appendingPathComponent("bot.sqlite").path
        let config = """
            server: {host: 127.0.0.1, port: 0\(publicURL.map { ", public_url: \"\($0)\"" } ?? "")}
            store: {sqlite: \(databasePath), synchronous: \(synchronous)}
            timezone: Asia/Shanghai
            locale: zh-Hans
            targets: \(targets)
            escalation: {remind_at: 0.5}
            outbox: {max_attempts: 8, backoff: 1s, max_backoff: 5m, timeout: 10s}
            platforms:
              generic: {secret: \(Self.secret), outbound_url: http://127.0.0.1:\(outboundPort)/messages}
            org: org.yaml
            commands: \(repository.appendingPathComponent("commands").path)

            """
        configPath = folder.appendingPathComponent("leagueops.yaml").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let org = OrgGenerator.yaml(towns: towns, communities: communities, grids: grids)
        try org.write(to: folder.appendingPathComponent("org.yaml"), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// A signed generic webhook request.
    static func webhook(id: String, chat: String, sender: String, text: String, ts: Double = Date().timeIntervalSince1970) -> [UInt8] {
        let payload: [String: Any] = ["id": id, "group": chat, "sender": sender, "text": text, "ts": ts]
        let body = try! JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        return HTTPConnection.request(
            method: "POST", path: "/webhook/generic",
            headers: [
                ("Content-Type", "application/json"),
                (GenericAdapter.signatureHeader, GenericAdapter.signature(body: body, secret: secret)),
            ], body: Array(body))
    }
}

/// `leagueops serve` as a child process; the port is read from the line it prints when listening.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let spawnedAt: Date
    private(set) var listeningAt: Date?
    private(set) var port = 0
    private let logPath: String

    init(binary: String, configPath: String, logPath: String) throws {
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", configPath, "--port", "0", "--log-level", "warning"]
        let output = Pipe()
        process.standardOutput = output
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        let ready = DispatchSemaphore(value: 0)
        let box = LineBox()
        let handle = output.fileHandleForReading
        spawnedAt = Date()
        try process.run()
        Thread.detachNewThread {
            var pending = Data()
            var signalled = false
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                guard !signalled else { continue }
                pending.append(data)
                let text = String(decoding: pending, as: UTF8.self)
                if let range = text.range(of: "LeagueOps listening on http://") {
                    let rest = text[range.upperBound...]
                    if let end = rest.firstIndex(of: "\n") {
                        box.set(String(rest[..<end]), at: Date())
                        signalled = true
                        ready.signal()
                    }
                }
            }
            if !signalled { ready.signal() }
        }
        guard ready.wait(timeout: .now() + 120) == .success, let (address, at) = box.get(),
            let port = address.split(separator: ":").last.flatMap({ Int($0) })
        else {
            process.terminate()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw BenchError("the server did not report a listening address; its log:\n\(log.suffix(2000))")
        }
        self.port = port
        self.listeningAt = at
    }

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
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            return Double(line.dropFirst(field.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }

    /// SIGTERM, then SIGKILL after `grace` seconds.
    func stop(grace: Double = 15) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// GET a path; returns status and body.
    func get(_ path: String) throws -> (Int, String) {
        let connection = try HTTPConnection(port: port)
        let (status, body) = try connection.roundTrip(HTTPConnection.request(method: "GET", path: path))
        return (status, String(decoding: body, as: UTF8.self))
    }

    /// Waits until /healthz reports no unprocessed inbound message; returns false on timeout.
    func waitDrained(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let (_, body) = try? get("/healthz"), body.contains("\"unprocessed_inbound\":0,") { return true }
            usleep(20_000)
        }
        return false
    }
}

private final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (String, Date)?
    func set(_ line: String, at: Date) { lock.withLock { value = (line, at) } }
    func get() -> (String, Date)? { lock.withLock { value } }
}
