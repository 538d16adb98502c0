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

/// Runs `body` with `running` and always awaits `running.stop()` afterwards, also when `body` throws:
/// nothing a test starts outlives it.
public func withRunning<S: Stoppable, T>(_ running: S, _ body: (S) async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body(running)
    } catch {
        await running.stop()
        throw error
    }
    await running.stop()
    return result
}

/// Runs `body` and always awaits the stop of everything in `running`, in order (a bot before the
/// gateway it talks to), also when `body` throws.
public func withStopping<T>(_ running: any Stoppable..., do body: () async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        for item in running { await item.stop() }
        throw error
    }
    for item in running { await item.stop() }
    return result
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
    cancelOnStop: Bool = false, _ make: (@escaping @Sendable (any Channel) async -> Void) -> App
) async -> (port: Int, run: ServiceRun) {
    let started = AsyncStream<Int>.makeStream()
    let application = make { channel in
        started.continuation.yield(channel.localAddress?.port ?? 0)
        started.continuation.finish()
    }
    let run = ServiceRun(application, cancelOnStop: cancelOnStop)
    var port = 0
    for await bound in started.stream { port = bound }
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
/// cancelled after 10 s so a test cannot hang on it.
public final class ServiceRun: Stoppable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let cancelOnStop: Bool

    public init(_ service: some Service, cancelOnStop: Bool = false) {
        self.cancelOnStop = cancelOnStop
        let group = ServiceGroup(configuration: .init(services: [service], logger: quietLogger("test-service-group")))
        self.group = group
        self.task = Task { try await group.run() }
    }

    public func stop() async {
        if cancelOnStop {
            task.cancel()
            _ = try? await task.value
            return
        }
        await group.triggerGracefulShutdown()
        let task = task
        let deadline = Task {
            try await Task.sleep(for: .seconds(10))
            task.cancel()
        }
        _ = try? await task.value
        deadline.cancel()
    }
}
