import Foundation
import HTTPTypes
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging
import NIOCore

/// The HTTP face of the bot: `/healthz` and `/webhook/<platform>`.
///
/// A webhook is verified and decoded by its platform adapter, committed and processed by the
/// `Ingestor` in one transaction, and answered only once that transaction is durable.
struct WebhookRoutes {
    let app: LeagueApp
    /// Bodies larger than this are refused with 413 before anything is read further.
    static let maxBody = 64 * 1024

    func add(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in try await health() }
        router.on("/webhook/:path", method: .post) { request, context in try await webhook(request, context) }
        router.on("/webhook/:path", method: .get) { request, context in try await webhook(request, context) }
        MinutesRoutes(app: app).add(to: router)
    }

    func health() async throws -> Response {
        var report = await app.auditor.report()
        // Platform connections (stream / long-connection modes): one down > 60 s, or stopped, degrades.
        let connections = app.connectionRegistry.report()
        for connection in connections where connection.degraded {
            let why = connection.state == "stopped" ? "stopped" : "down for \(Int(connection.downSeconds ?? 0)) s"
            report.reasons.append(Auditor.Reason(code: "connection", detail: "\(connection.name) \(why): \(connection.lastError ?? "no error recorded")"))
        }
        let degraded = report.degraded
        var json = report.json
        if !connections.isEmpty {
            json = String(json.dropLast()) + ",\"connections\":" + ConnectionRegistry.json(connections) + "}"
        }
        return Response(
            status: degraded ? .serviceUnavailable : .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    func webhook(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let path = context.parameters.get("path") ?? ""
        guard let adapter = app.webhookAdapters[path] else {
            return Self.plain(.init(status: 404, body: Data("no webhook at /webhook/\(path)\n".utf8)))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBody)
        } catch {
            return Self.plain(.init(status: 413, body: Data("body larger than 64 KiB\n".utf8)))
        }
        let (query, repeated) = Self.parseQuery(request.uri.query ?? "")
        if let key = repeated.first {
            // Like a repeated header: ambiguous (WeCom signs the timestamp and nonce of its query), so refused.
            return Self.plain(.text("query parameter \(key) was given more than once\n", status: 400))
        }
        var headers: [String: [String]] = [:]
        for field in request.headers { headers[field.name.canonicalName, default: []].append(field.value) }
        let inbound = InboundRequest(
            method: request.method.rawValue, query: query, headers: headers,
            body: Data(body.readableBytesView)
        )
        let outcome: InboundOutcome
        do throws(InboundRejection) {
            outcome = try adapter.decode(inbound, path: path, now: app.engine.clock.now())
        } catch {
            app.engine.metrics.inbound(platform: adapter.name, outcome: "refused")
            // Details for the operator (escaped, rate-limited); a short generic text for the caller (issue 11).
            app.rejectionLog.log(app.engine.logger, path: path, status: error.status, reason: error.reason, now: app.engine.clock.now())
            if let message = error.tooLong { await tellTooLong(message) }
            return Self.plain(.text(RejectionLog.publicText(status: error.status), status: error.status))
        }
        switch outcome {
        case .respond(let response):
            return Self.plain(response)
        case .ignore(let reason, let reply):
            app.engine.logger.debug("webhook ignored", metadata: ["reason": "\(reason)"])
            return Self.plain(reply)
        case .message(let message, let reply):
            let org = await app.engine.directory.tree(app.engine.store)
            guard org.unit(platform: message.platform, chat: message.chat) != nil || app.engine.isBindingCode(message) else {
                app.engine.metrics.inbound(platform: message.platform, outcome: "unbound")
                app.engine.logger.notice("message from a chat no unit is bound to", metadata: ["platform": "\(message.platform)", "chat": "\(message.chat)"])
                return Self.plain(.text("chat not bound to any unit; ignored\n", status: 202))
            }
            do {
                let started = ContinuousClock.now
                let result = try await app.ingestor.submit(message)
                app.engine.metrics.ingestLatency(ContinuousClock.now - started)
                app.engine.metrics.inbound(platform: message.platform, outcome: result == .duplicate ? "duplicate" : "accepted")
            } catch {
                app.engine.metrics.inbound(platform: message.platform, outcome: "unavailable")
                app.engine.logger.error("could not commit a message", metadata: ["error": "\(error)"])
                return Self.plain(.text("store unavailable, retry later\n", status: 503))
            }
            return Self.plain(reply)
        }
    }

    /// A verified message refused as too long: a short reply to its sender in the chat (once per
    /// platform message id, however often the platform retries). Nothing of the text is kept.
    func tellTooLong(_ message: ChatMessage) async {
        let engine = app.engine
        guard let unit = engine.unit(for: message), let group = unit.group else { return }
        let member = engine.member(for: message)
        let language = engine.config.language
        let limit = InboundLimits.maxTextBytes / 1024
        let text = language.pick(
            "您的消息太长，机器人没有处理。请分成几条发送（每条不超过 \(limit) KB，约一万字）。",
            "Your message is too long, so the bot did not read it. Please send it in parts (at most \(limit) KB, about 10,000 Chinese characters, each).")
        let reply = OutboundMessage(
            key: "toolong:\(message.platform):\(message.messageID)", unitID: unit.id, group: group, text: text,
            mentions: member.map { TaskPolicy.mentions(of: [$0], platform: group.platform) } ?? [])
        do {
            let now = engine.clock.now()
            try await engine.store.write { tx in try tx.enqueue(reply, at: now) }
            app.outboxBell.ring()
        } catch {
            engine.logger.error("could not queue the too-long reply", metadata: ["error": "\(error)"])
        }
    }

    static func plain(_ response: PlainResponse) -> Response {
        Response(
            status: .init(code: response.status), headers: [.contentType: response.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    /// Percent-decodes a raw query string; `+` stays a literal plus. A repeated key keeps the first value.
    static func query(_ raw: String) -> [String: String] { parseQuery(raw).values }

    /// The decoded query, and the keys given more than once (in order of their second appearance).
    static func parseQuery(_ raw: String) -> (values: [String: String], repeated: [String]) {
        var result: [String: String] = [:]
        var repeated: [String] = []
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.flatMap({ String($0).removingPercentEncoding }) else { continue }
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            if result[key] == nil { result[key] = value } else if !repeated.contains(key) { repeated.append(key) }
        }
        return (result, repeated)
    }
}
