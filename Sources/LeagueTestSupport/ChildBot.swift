import Foundation
import GRDB
import LeaguePlatforms

#if canImport(Glibc)
import Glibc
#endif

/// The built `leagueops` executable: next to the test bundle (same build folder), else nil.
public func leagueopsBinary() -> String? {
    var folders = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL.deletingLastPathComponent(),
        Bundle.main.bundleURL,
    ]
    if let path = Bundle.main.executableURL { folders.append(path.deletingLastPathComponent()) }
    for folder in folders {
        var candidate = folder
        // On macOS the bundle is …/debug/X.xctest/Contents/MacOS/X.
        for _ in 0..<4 {
            let binary = candidate.appendingPathComponent("leagueops").path
            if FileManager.default.isExecutableFile(atPath: binary) { return binary }
            candidate = candidate.deletingLastPathComponent()
        }
    }
    return nil
}

/// Runs `binary` with `arguments` (stdin closed; in `folder` when given) and waits for it, killing it after
/// `timeout` seconds. Returns its exit status, standard output and standard error.
public func runProcess(_ binary: String, _ arguments: [String], in folder: String? = nil, timeout: Double = 30) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
    let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (process.terminationStatus, output, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

/// `leagueops serve` as a child process (port 0; the port is read from the line it prints).
public final class ChildBot: Stoppable, @unchecked Sendable {
    public let process = Process()
    public let port: Int
    /// When it was started, and when it printed where it listens (the benchmarks' start-up time).
    public let spawnedAt: Date
    public let listeningAt: Date

    /// - Parameter logPath: a file for its standard error (its log), else discarded.
    public init(binary: String, config: String, logLevel: String = "critical", logPath: String? = nil, timeout: Double = 30) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", config, "--port", "0", "--log-level", logLevel]
        let output = Pipe()
        process.standardOutput = output
        if let logPath { FileManager.default.createFile(atPath: logPath, contents: nil) }
        process.standardError = logPath.flatMap { FileHandle(forWritingAtPath: $0) } ?? FileHandle.nullDevice
        spawnedAt = Date()
        try process.run()
        let handle = output.fileHandleForReading
        var text = ""
        // A child that has not said where it listens after `timeout` seconds is stopped, which ends the read below.
        let watchdog = DispatchWorkItem { [process] in process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        var found: Int?
        while found == nil {
            let data = handle.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let range = text.range(of: "LeagueOps listening on http://127.0.0.1:"),
                let end = text[range.upperBound...].firstIndex(of: "\n")
            {
                found = Int(text[range.upperBound..<end])
            }
        }
        watchdog.cancel()
        guard let found else {
            process.terminate()
            throw ChildBotError(description: "leagueops serve did not print its listening address; output: \(text)")
        }
        port = found
        listeningAt = Date()
        // Keep draining stdout so the child never blocks on a full pipe.
        Thread.detachNewThread { while !handle.availableData.isEmpty {} }
    }

    public struct ChildBotError: Error, CustomStringConvertible { public var description: String }

    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait (bounded); for `withRunning`.
    public func stop() async { _ = terminate() }

    /// SIGTERM and wait (bounded); returns the exit status, or nil when it had to be killed.
    public func terminate(timeout: Double = 15) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill9()
            return nil
        }
        return process.terminationStatus
    }

    /// Posts a signed generic message; returns the status, or nil when the connection failed.
    public func say(_ text: String, in chat: String, from sender: String, id: String) async -> Int? {
        let body = TestBot.body(id: id, chat: chat, sender: sender, text: text, ts: Date().timeIntervalSince1970)
        let headers = [GenericAdapter.signatureHeader: GenericAdapter.signature(body: body, secret: testSecret)]
        return try? await loopback(port: port, path: "/webhook/generic", body: body, headers: headers, timeout: 10).0
    }
}

/// Read-only access to a bot's database file from the test.
public func readDatabase<T: Sendable>(_ path: String, _ body: @Sendable (Database) throws -> T) throws -> T {
    var configuration = Configuration()
    configuration.readonly = true
    return try DatabaseQueue(path: path, configuration: configuration).read(body)
}
