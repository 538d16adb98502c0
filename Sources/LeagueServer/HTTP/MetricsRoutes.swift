import Foundation
import HTTPTypes
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import NIOCore
import ServiceLifecycle

/// `GET /metrics` in the Prometheus text format (issue 14). On the main port only with
/// `Authorization: Bearer <metrics.token>` (404 when no token is configured, 401 on a wrong one);
/// on `metrics.port` (bound to 127.0.0.1 only) without a token.
struct MetricsRoutes {
    let app: LeagueApp
    let requireToken: Bool

    func add(to router: Router<BasicRequestContext>) {
        router.get("/metrics") { request, _ in try await scrape(request) }
    }

    func scrape(_ request: Request) async throws -> Response {
        if requireToken {
            guard let token = app.engine.config.observability.metricsToken, !token.isEmpty else {
                return Response(status: .notFound, body: ResponseBody(byteBuffer: ByteBuffer(string: "metrics are served with metrics.token or on metrics.port\n")))
            }
            let given = request.headers[.authorization] ?? ""
            guard Bytes.constantTimeEqual(given.utf8, "Bearer \(token)".utf8) else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"], body: ResponseBody(byteBuffer: ByteBuffer(string: "bearer token missing or wrong\n")))
            }
        }
        let engine = app.engine
        let now = engine.clock.now()
        let (health, oldest) = try await engine.store.read { reader in
            (try reader.health(at: now, tolerance: 0), try reader.oldestPendingOutbox())
        }
        engine.metrics.backlog(
            pendingOutbox: health.pendingOutbox, oldestPendingSeconds: oldest.map { max(now.timeIntervalSince($0), 0) } ?? 0,
            deadOutbox: health.deadOutbox, timersDue: health.overdueTimers, unprocessedInbound: health.unprocessedInbound)
        engine.metrics.connections(app.connectionRegistry.report())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: engine.metrics.exposition())))
    }

    /// The separate metrics server on 127.0.0.1:`metrics.port`, when configured (a service of the app).
    static func loopbackServer(_ app: LeagueApp) -> [any Service] {
        guard let port = app.engine.config.observability.metricsPort else { return [] }
        let router = Router()
        MetricsRoutes(app: app, requireToken: false).add(to: router)
        return [
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "LeagueOps-metrics"),
                logger: app.engine.logger)
        ]
    }
}
