import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LeagueCore
import Logging
import NIOCore

/// The one fake chat platform of the tests and the benchmarks: an in-process HTTP server on
/// 127.0.0.1, port 0, that receives what the bot sends to every platform's robot API.
///
/// * generic: `POST /messages` (the generic adapter's outbound JSON: key, group, text, mentions)
/// * WeCom group robot: `POST /cgi-bin/webhook/send?key=KEY`
/// * DingTalk custom robot: `POST /robot/send?access_token=T&timestamp=MS&sign=S` — the 加签 is checked
/// * Feishu custom bot: `POST /open-apis/bot/v2/hook/:id` with `timestamp` + `sign` body fields — checked
///
/// Signatures are recomputed here with swift-crypto directly (not with the adapters' helpers) and
/// checked against the injected clock (±1 hour, as the vendors do). A bad signature is answered
/// with the vendor's own error (DingTalk 310000, Feishu 19021). `rateLimit` scripts the vendor's
/// rate-limit answer for the next N requests of a robot; `blackHole` makes a generic group's sends hang.
/// Every request fires `arrived`, which the waits wake on. The stream gateways (DingTalk Stream, Feishu
/// and WeCom long connections) are `FakeDingTalkGateway` and `FakeGateway`, on the same plumbing.
public final class FakePlatform: Startable, @unchecked Sendable {
    public enum Vendor: String, Sendable { case generic, wecom, dingtalk, feishu }

    /// The rate-limit answer to give.
    public enum Limit: Sendable {
        case wecom45009, dingtalk130101, dingtalk660026, feishu9499, http429
    }

    public struct Received: Sendable {
        public var vendor: Vendor
        /// The robot: WeCom key, DingTalk access token, Feishu hook id; the group for generic.
        public var robot: String
        public var query: [String: String]
        public var body: Data
        public var signatureValid: Bool
        /// False when the fake answered with a rate-limit or signature error.
        public var accepted: Bool
        /// When it arrived (wall clock, the clock a server's deadlines use).
        public var at: Date
        /// The generic adapter's idempotency key and group ("" for the vendors).
        public var key: String
        public var group: String
        /// The parsed JSON body.
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }

        /// The message text in the vendor's body format (text content, markdown text, or post paragraphs).
        public var text: String {
            let json = self.json
            switch vendor {
            case .generic:
                return json["text"] as? String ?? ""
            case .wecom:
                return ((json["text"] as? [String: Any])?["content"] as? String) ?? ((json["markdown"] as? [String: Any])?["content"] as? String) ?? ""
            case .dingtalk:
                return ((json["text"] as? [String: Any])?["content"] as? String) ?? ((json["markdown"] as? [String: Any])?["text"] as? String) ?? ""
            case .feishu:
                let content = json["content"] as? [String: Any]
                if let text = content?["text"] as? String { return text }
                let post = ((content?["post"] as? [String: Any])?["zh_cn"] as? [String: Any])?["content"] as? [[[String: Any]]] ?? []
                return post.map { $0.compactMap { $0["text"] as? String }.joined() }.joined(separator: "\n")
            }
        }

        /// The people mentioned, as the vendor reads them: WeCom `mentioned_list` + `mentioned_mobile_list`,
        /// DingTalk `at.atUserIds` + `at.atMobiles`, Feishu the `<at user_id="…">` tags or `at` elements.
        public var mentions: [String] {
            let json = self.json
            switch vendor {
            case .generic:
                return json["mentions"] as? [String] ?? []
            case .wecom:
                let text = json["text"] as? [String: Any]
                return (text?["mentioned_list"] as? [String] ?? []) + (text?["mentioned_mobile_list"] as? [String] ?? [])
            case .dingtalk:
                let at = json["at"] as? [String: Any]
                return (at?["atUserIds"] as? [String] ?? []) + (at?["atMobiles"] as? [String] ?? [])
            case .feishu:
                var ids: [String] = []
                var rest = Substring(text)
                while let range = rest.range(of: "<at user_id=\"") {
                    let tail = rest[range.upperBound...]
                    guard let end = tail.firstIndex(of: "\"") else { break }
                    ids.append(String(tail[..<end]))
                    rest = tail[end...]
                }
                return ids
            }
        }
    }

    public let clock: any WallClock
    /// Fired on every request.
    public let arrived = Signal()
    /// Fired once by the stop: black-holed sends end.
    private let stopping = Signal()
    private let lock = NSLock()
    private var items: [Received] = []
    private var keyCounts: [String: Int] = [:]
    private var limits: [String: (Limit, Int)] = [:]
    private var holes: Set<String> = []
    /// Robot secrets by robot (DingTalk token or Feishu hook id) for checking signatures.
    private var secrets: [String: String] = [:]
    public private(set) var port = 0
    private var run: ServiceRun?

    public init(clock: any WallClock = SystemClock()) {
        self.clock = clock
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var requests: [Received] { lock.withLock { items } }
    /// Everything that arrived (the same as `requests`).
    public var received: [Received] { requests }
    /// Requests the fake accepted (answered errcode/code 0).
    public var delivered: [Received] { requests.filter(\.accepted) }
    public func delivered(to robot: String) -> [Received] { delivered.filter { $0.robot == robot } }
    public var count: Int { lock.withLock { items.count } }
    /// Generic idempotency keys that arrived more than once (a key must never be sent twice).
    public var duplicateKeys: [String] { lock.withLock { keyCounts.filter { $0.value > 1 }.map(\.key) } }
    public func count(key: String) -> Int { lock.withLock { keyCounts[key] ?? 0 } }

    /// Registers a robot's signing secret (DingTalk `robot_secret`, Feishu `hook_secret`).
    public func expectSecret(_ secret: String, for robot: String) { lock.withLock { secrets[robot] = secret } }

    /// Answers the next `count` requests to `robot` with the vendor's rate-limit error.
    public func rateLimit(_ robot: String, next count: Int, with limit: Limit) { lock.withLock { limits[robot] = (limit, count) } }

    /// Generic groups whose robot is black-holed: their sends are read and recorded, and never answered
    /// (the connection stays open until the sender's time-out), as a robot endpoint that hangs does.
    public func blackHole(_ groups: Set<String>) { lock.withLock { holes = groups } }

    public func start() async throws {
        let router = Router()
        router.post("/messages") { request, _ in try await self.handle(.generic, request, robotFromPath: nil) }
        router.post("/cgi-bin/webhook/send") { request, _ in try await self.handle(.wecom, request, robotFromPath: nil) }
        router.post("/robot/send") { request, _ in try await self.handle(.dingtalk, request, robotFromPath: nil) }
        router.post("/open-apis/bot/v2/hook/:id") { request, context in
            try await self.handle(.feishu, request, robotFromPath: context.parameters.get("id") ?? "")
        }
        (port, run) = try await startLoopback { running in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "FakePlatform"),
                onServerRunning: running, logger: quietLogger("fake-platform"))
        }
    }

    public func stop() async {
        stopping.fire()
        await run?.stop()
    }

    /// Waits (bounded) until `condition` holds on what arrived; throws `WaitTimedOut`.
    public func wait(_ what: String, timeout: Double = 20, _ condition: ([Received]) -> Bool) async throws {
        try await waitFor(
            what, timeout: timeout, signal: arrived, fallback: 0.25,
            seen: { self.requests.map { "[\($0.vendor) \($0.robot) \($0.accepted ? "ok" : "refused")] \($0.key) \($0.text)" }.joined(separator: "\n") }
        ) {
            condition(requests)
        }
    }

    /// Waits until `condition` holds on what arrived; false after `timeout` seconds. For the benchmarks:
    /// it looks every 5 ms instead of at every arrival, so that 100,000 arrivals cost no more than their receipt.
    public func wait(timeout: Double, _ condition: ([Received]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(requests) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(requests)
    }

    /// Starts the stop and returns at once, for a benchmark's `defer` (tests await `stop()`).
    public func stopWithoutWaiting() {
        stopping.fire()
        guard let run else { return }
        Task { await run.stop() }
    }

    private func handle(_ vendor: Vendor, _ request: Request, robotFromPath: String?) async throws -> Response {
        let body = Data(try await request.body.collect(upTo: 4 << 20).readableBytesView)
        let at = Date()
        let query = Self.query(request.uri.query ?? "")
        var key = "", group = ""
        let robot: String
        switch vendor {
        case .generic:
            let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            key = object["key"] as? String ?? ""
            group = object["group"] as? String ?? ""
            robot = group
        case .wecom: robot = query["key"] ?? ""
        case .dingtalk: robot = query["access_token"] ?? ""
        case .feishu: robot = robotFromPath ?? ""
        }
        let valid = checkSignature(vendor, robot: robot, query: query, body: body)
        let hole = vendor == .generic && lock.withLock { holes.contains(group) }
        // One lock for the rate-limit script and the record (the benchmarks receive 100,000 of these).
        let limit: Limit? = lock.withLock {
            var limit: Limit?
            if let (scripted, count) = limits[robot], count > 0 {
                limits[robot] = (scripted, count - 1)
                limit = scripted
            }
            items.append(
                Received(
                    vendor: vendor, robot: robot, query: query, body: body, signatureValid: valid, accepted: valid && limit == nil && !hole, at: at,
                    key: key, group: group))
            if vendor == .generic { keyCounts[key, default: 0] += 1 }
            return limit
        }
        arrived.fire()
        if hole {
            // Recorded, never answered: until the fake stops (a graceful stop would wait for this handler).
            await stopping.wait(after: 0, seconds: 3600)
        }
        if !valid {
            switch vendor {
            case .dingtalk: return jsonResponse(#"{"errcode":310000,"errmsg":"sign not match"}"#)
            case .feishu: return jsonResponse(#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time","data":{}}"#)
            case .wecom, .generic: return jsonResponse(#"{"errcode":93000,"errmsg":"invalid webhook url"}"#)
            }
        }
        if let limit {
            switch limit {
            case .wecom45009: return jsonResponse(#"{"errcode":45009,"errmsg":"api freq out of limit"}"#)
            case .dingtalk130101: return jsonResponse(#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#)
            case .dingtalk660026: return jsonResponse(#"{"errcode":660026,"errmsg":"send too fast"}"#)
            case .feishu9499: return jsonResponse(#"{"code":9499,"msg":"too many request","data":{}}"#)
            case .http429: return jsonResponse(#"{"code":9499,"msg":"too many request","data":{}}"#, status: 429)
            }
        }
        switch vendor {
        case .generic: return jsonResponse(#"{"ok":true}"#)
        case .wecom, .dingtalk: return jsonResponse(#"{"errcode":0,"errmsg":"ok"}"#)
        case .feishu: return jsonResponse(#"{"code":0,"msg":"success","data":{}}"#)
        }
    }

    private func checkSignature(_ vendor: Vendor, robot: String, query: [String: String], body: Data) -> Bool {
        if vendor == .generic { return true }
        let secret = lock.withLock { secrets[robot] }
        let now = clock.now().timeIntervalSince1970
        switch vendor {
        case .generic:
            return true
        case .wecom:
            return !robot.isEmpty  // the key in the URL is the only credential
        case .dingtalk:
            guard let secret else { return query["sign"] == nil }
            guard let timestamp = query["timestamp"], let sign = query["sign"], let ms = Double(timestamp), abs(ms / 1000 - now) <= 3600 else { return false }
            let mac = HMAC<SHA256>.authenticationCode(for: Data((timestamp + "\n" + secret).utf8), using: SymmetricKey(data: Data(secret.utf8)))
            return Data(mac).base64EncodedString() == sign
        case .feishu:
            guard let secret else { return true }
            let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            guard let timestamp = json["timestamp"] as? String, let sign = json["sign"] as? String, let seconds = Double(timestamp),
                abs(seconds - now) <= 3600
            else { return false }
            let mac = HMAC<SHA256>.authenticationCode(for: Data(), using: SymmetricKey(data: Data((timestamp + "\n" + secret).utf8)))
            return Data(mac).base64EncodedString() == sign
        }
    }

    /// Percent-decodes a raw query; `+` stays a plus (the sign is Base64).
    public static func query(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.flatMap({ String($0).removingPercentEncoding }) else { continue }
            result[key] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
        }
        return result
    }

}
