import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// The repository root, found from this file (Sources/LeagueTestSupport/Loopback.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Something a test starts and must stop (a bot, a fake platform, a gateway).
public protocol Stoppable: AnyObject, Sendable {
    func stop() async
}

/// Something a test starts on loopback and must stop (a fake platform, a gateway).
public protocol Startable: Stoppable {
    func start() async throws
}

/// Starts `service`, runs `body` with it and always awaits its stop, also when `body` throws.
public func withStarted<S: Startable, T>(_ service: S, _ body: (S) async throws -> T) async throws -> T {
    try await service.start()
    return try await withRunning(service, body)
}

/// Runs `body` with `running` and always awaits `running.stop()` afterwards, also when `body` throws:
/// nothing a test starts outlives it.
public func withRunning<S: Stoppable, T>(_ running: S, _ body: (S) async throws -> T) async throws -> T {
    try await withStopping(running) { try await body(running) }
}

/// Runs `body` and always awaits the stop of everything in `running`, in order (a bot before the
/// gateway it talks to), also when `body` throws.
/// A stop that did not finish (see `ServiceRun.stop`) fails the test with `StopStalled` instead of hanging it.
public func withStopping<T>(_ running: any Stoppable..., do body: () async throws -> T) async throws -> T {
    let stalls = StallBox()
    func stopAll() async {
        await ServiceRun.$stalls.withValue(stalls) {
            for item in running { await item.stop() }
        }
    }
    let result: T
    do {
        result = try await body()
    } catch {
        await stopAll()
        throw error
    }
    await stopAll()
    if let stalled = stalls.first { throw StopStalled(description: stalled) }
    return result
}

/// Something a test started did not stop: its graceful shutdown and then its cancellation each timed out.
public struct StopStalled: Error, CustomStringConvertible {
    public var description: String
}

/// Stops that stalled within one `withStopping`.
final class StallBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stalls: [String] = []
    func add(_ text: String) { lock.withLock { stalls.append(text) } }
    var first: String? { lock.withLock { stalls.first } }
}

/// One HTTP request to a server on loopback (AsyncHTTPClient): status and body text.
/// `repeatedHeaders` are added after `headers`, so a name in both is sent twice.
public func loopback(
    _ method: String = "POST", port: Int, path: String, body: Data? = nil, headers: [String: String] = [:],
    repeatedHeaders: [(String, String)] = [], timeout: Double = 30
) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = HTTPMethod(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    for (name, value) in repeatedHeaders { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
    let bytes = try await response.body.collect(upTo: 4 << 20)
    return (Int(response.status.code), String(buffer: bytes))
}

/// Starts a Hummingbird application (the bot's, a fake platform's, a gateway's) on port 0 in a service
/// group of its own; returns the bound port and the run to stop. The plumbing every loopback fake shares.
/// - Parameter cancelOnStop: stop by cancelling instead of a graceful shutdown (a fake whose handlers
///   hang on purpose, whose open WebSocket sessions a graceful shutdown would wait for).
public func startLoopback<App: ApplicationProtocol>(
    cancelOnStop: Bool = false, stallFails: Bool = true, _ make: (@escaping @Sendable (any Channel) async -> Void) -> App
) async throws -> (port: Int, run: ServiceRun) {
    let started = AsyncStream<Int>.makeStream()
    let application = make { channel in
        started.continuation.yield(channel.localAddress?.port ?? 0)
        started.continuation.finish()
    }
    // A server that fails before it listens ends the wait too (its port stays 0).
    let run = ServiceRun(application, cancelOnStop: cancelOnStop, stallFails: stallFails, onExit: { started.continuation.finish() })
    var port = 0
    for await bound in started.stream { port = bound }
    guard port != 0 else {
        await run.stop()
        throw MissingValue(description: "the loopback server did not start listening")
    }
    return (port, run)
}

/// A quiet logger for the fakes and the bots under test.
public func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// A JSON response with a status.
public func jsonResponse(_ text: String, status: Int = 200) -> Response {
    Response(status: .init(code: status), headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}

/// A server (or any service) run in a service group of its own and stopped by graceful shutdown.
/// Cancelling the task instead can trap in NIO when a connection is accepted during the cancel
/// ("Deinited NIOAsyncWriter without calling finish()", swift-nio#3481); a shutdown that hangs is
/// cancelled after 10 s so a test cannot hang on it. A run that outlives its cancellation by 5 s more is
/// left behind and reported: `withStopping` then fails the test with `StopStalled`.
public final class ServiceRun: Stoppable {
    /// Where the stops of one `withStopping` report a stall.
    @TaskLocal static var stalls: StallBox?

    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let cancelOnStop: Bool
    private let stallFails: Bool
    private let label: String
    private let ended = Signal()

    /// - Parameters:
    ///   - stallFails: false for a fake whose own server may outlive its stop (it is then only logged).
    ///   - onExit: called when the run ends, however it ends.
    public init(_ service: some Service, cancelOnStop: Bool = false, stallFails: Bool = true, onExit: @escaping @Sendable () -> Void = {}) {
        self.cancelOnStop = cancelOnStop
        self.stallFails = stallFails
        self.label = String(describing: type(of: service))
        let group = ServiceGroup(configuration: .init(services: [service], logger: quietLogger("test-service-group")))
        self.group = group
        let ended = ended
        self.task = Task {
            defer {
                onExit()
                ended.fire()
            }
            try await group.run()
        }
    }

    /// Stops the run and waits for its end; a second call returns at once.
    public func stop() async {
        if !cancelOnStop {
            await group.triggerGracefulShutdown()
            if await waitForEnd(seconds: 10) { return }
        }
        task.cancel()
        if await waitForEnd(seconds: 5) { return }
        let text = "\(label) did not stop: graceful shutdown and cancellation both timed out"
        FileHandle.standardError.write(Data("LeagueTestSupport: \(text)\n".utf8))
        if stallFails { Self.stalls?.add(text) }
    }

    /// True when the run ended within `seconds`.
    private func waitForEnd(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let generation = ended.generation
            if generation > 0 { break }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return false }
            await ended.wait(after: generation, seconds: left)
        }
        return true
    }
}
