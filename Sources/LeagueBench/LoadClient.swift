import Foundation
import LeagueCore

/// A failure of the benchmark harness itself (not of the server under test).
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One keep-alive HTTP/1.1 connection over a blocking loopback socket: one request at a time,
/// no pipelining. Blocking sockets on one thread per connection keep the client's own cost low
/// and easy to reason about on a 2-core machine.
final class HTTPConnection: @unchecked Sendable {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)  // Linux only, as the /proc readings
        guard fd >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw BenchError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends one request and reads its whole response.
    /// - Returns: the status code and the body.
    func roundTrip(_ request: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        var offset = 0
        while offset < request.count {
            let written = request.withUnsafeBytes { write(fd, $0.baseAddress! + offset, request.count - offset) }
            guard written > 0 else { throw BenchError("write failed: errno \(errno)") }
            offset += written
        }
        var response: [UInt8] = []
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            guard count > 0 else { throw BenchError("connection closed by the server") }
            response.append(contentsOf: buffer[0..<count])
            if headerEnd == nil, let end = response.firstRange(of: [13, 10, 13, 10])?.lowerBound {
                headerEnd = end + 4
                let head = String(decoding: response[0..<end], as: UTF8.self).lowercased()
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, response.count >= headerEnd + contentLength {
                let statusLine = String(decoding: response.prefix(16), as: UTF8.self)
                let parts = statusLine.split(separator: " ")
                let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                return (status, Array(response[headerEnd..<(headerEnd + contentLength)]))
            }
        }
    }

    /// An HTTP/1.1 request's bytes.
    static func request(method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = []) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// Latency figures of one run.
struct LoadResult {
    var count: Int
    var errors: Int
    var seconds: Double
    /// Sorted, in milliseconds.
    var latencies: [Double]

    var rate: Double { Double(count) / seconds }
    func percentile(_ p: Double) -> Double { Stats.percentile(latencies, p) }
}

enum Stats {
    /// Nearest-rank percentile of a sorted array (NaN for none).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double { Assessment.nearestRank(sorted, p) ?? .nan }

    static func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// Sends pre-built requests over `connections` keep-alive connections, one thread each, as fast
/// as the server answers (closed loop): each connection sends its next request when the last is answered.
enum LoadClient {
    /// Shared between the connection threads, under its lock.
    private final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var latencies: [Double] = []
        var errors = 0
        var firstError: String?
    }

    static func run(port: Int, requests: [[UInt8]], connections: Int) throws -> LoadResult {
        let shared = Shared()
        shared.latencies.reserveCapacity(requests.count)
        let group = DispatchGroup()
        let open = try (0..<connections).map { _ in try HTTPConnection(port: port) }
        let start = Stats.monotonicNanoseconds()
        for connection in open {
            group.enter()
            let thread = Thread {
                var local: [Double] = []
                var localErrors = 0
                var localError: String?
                while true {
                    let index: Int = shared.lock.withLock {
                        defer { shared.next += 1 }
                        return shared.next
                    }
                    guard index < requests.count else { break }
                    let began = Stats.monotonicNanoseconds()
                    do {
                        let (status, _) = try connection.roundTrip(requests[index])
                        local.append(Double(Stats.monotonicNanoseconds() - began) / 1e6)
                        if !(200..<300).contains(status) { localErrors += 1 }
                    } catch {
                        localErrors += 1
                        localError = "\(error)"
                        break
                    }
                }
                shared.lock.withLock {
                    shared.latencies += local
                    shared.errors += localErrors
                    if shared.firstError == nil { shared.firstError = localError }
                }
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let seconds = Double(Stats.monotonicNanoseconds() - start) / 1e9
        let (latencies, errors, firstError) = shared.lock.withLock { (shared.latencies, shared.errors, shared.firstError) }
        if let firstError { FileHandle.standardError.write(Data("load client: \(firstError)\n".utf8)) }
        return LoadResult(count: latencies.count, errors: errors, seconds: seconds, latencies: latencies.sorted())
    }
}
