import Foundation
import Hummingbird
import Logging
import NIOCore

/// The fake chat platform: receives the bot's outbound generic POSTs on loopback and records
/// each with its arrival time (wall clock, the same clock the server's deadlines use).
final class FakePlatform: @unchecked Sendable {
    struct Received: Sendable {
        var key: String
        var group: String
        var text: String
        var at: Date
    }

    private let lock = NSLock()
    private var items: [Received] = []
    private var keys: [String: Int] = [:]
    private var task: Task<Void, any Error>?
    private(set) var port = 0
    private var holes: Set<String> = []

    /// Groups whose robot is black-holed: their sends are read and never answered (the connection
    /// stays open until the sender's time-out), as a robot endpoint that hangs does.
    func blackHole(_ groups: Set<String>) { lock.withLock { holes = groups } }

    var received: [Received] { lock.withLock { items } }
    var count: Int { lock.withLock { items.count } }
    /// Keys that arrived more than once (an idempotency key must never be sent twice).
    var duplicateKeys: [String] { lock.withLock { keys.filter { $0.value > 1 }.map(\.key) } }

    func reset() {
        lock.withLock {
            items.removeAll(); keys.removeAll()
        }
    }

    func start() async throws {
        let router = Router()
        router.post("/messages") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 4 << 20)
            let now = Date()
            let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
            let received = Received(
                key: object["key"] as? String ?? "", group: object["group"] as? String ?? "",
                text: object["text"] as? String ?? "", at: now)
            if self.lock.withLock({ self.holes.contains(received.group) }) {
                try await Task.sleep(for: .seconds(3600))
            }
            self.lock.withLock {
                self.items.append(received)
                self.keys[received.key, default: 0] += 1
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
        var logger = Logger(label: "fake-platform")
        logger.logLevel = .critical
        let started = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "FakePlatform"),
            onServerRunning: { channel in
                started.continuation.yield(channel.localAddress?.port ?? 0)
                started.continuation.finish()
            },
            logger: logger
        )
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for await port in started.stream { self.port = port }
    }

    func cancel() { task?.cancel() }

    func stop() async {
        task?.cancel()
        _ = try? await task?.value
    }

    /// Waits until `condition` holds on what arrived; returns false after `timeout` seconds.
    func wait(timeout: Double, _ condition: ([Received]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(received) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(received)
    }
}
