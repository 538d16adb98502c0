import Foundation
import HTTPTypes
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import NIOCore

/// `GET /minutes/<unit>/<month>?[subtree=1&][m=…&]e=…&sig=…[&format=md]`: the minutes page a /纪要
/// link (or the dashboard) points to. The signed pass (`MinutesPass`: unit, month, scope, member,
/// expiry) is what makes a link valid: without it or altered 403, past its expiry 410; a refused
/// request writes nothing. Every page served (HTML or the Markdown export) is in the audit log.
struct MinutesRoutes {
    let app: LeagueApp

    func add(to router: Router<BasicRequestContext>) {
        router.get("/minutes/:unit/:month") { request, context in
            // Minutes are about people: never cached, never leaked through a Referer (issue 11).
            var response = try await page(request, context)
            response.headers[.cacheControl] = "no-store"
            response.headers[Self.referrerPolicy] = "no-referrer"
            return response
        }
    }

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func page(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = WebhookRoutes.query(request.uri.query ?? "")
        let unitID = context.parameters.get("unit") ?? ""
        let monthText = context.parameters.get("month") ?? ""
        let engine = app.engine
        guard let unit = engine.org.unit(unitID), let month = DeliberationMonth(text: monthText) else {
            return WebhookRoutes.plain(.text("no such minutes\n", status: 404))
        }
        let config = engine.config
        let language = config.language
        let now = engine.clock.now()
        // The signature first, before anything else is read; everything on a reader connection:
        // a loop of bad links never touches the writer that webhooks wait for.
        func refuse(_ reason: MinutesRenderer.LinkRefusal) -> Response {
            let status: HTTPResponse.Status = reason == .expired ? .gone : .forbidden
            app.rejectionLog.log(
                engine.logger, path: request.uri.path, status: Int(status.code),
                reason: reason == .expired ? "minutes link expired" : "minutes link signature missing or wrong", now: now)
            return WebhookRoutes.plain(
                PlainResponse(
                    status: Int(status.code), contentType: "text/html; charset=utf-8",
                    body: Data(MinutesRenderer.refused(reason, language: language).utf8)))
        }
        guard let pass = MinutesPass.from(unitID: unit.id, month: month.description, query: query), !pass.signature.isEmpty else { return refuse(.invalid) }
        // A configured secret needs no read; a stored key is read on a reader connection.
        let stored = config.deliberation.linkSecret == nil ? try await engine.store.snapshot { tx in try SignedLink.key(config, reader: tx) } : nil
        guard let key = config.deliberation.linkSecret ?? stored else { return refuse(.invalid) }
        switch pass.verdict(SignedLink(key: key), now: now) {
        case .invalid: return refuse(.invalid)
        case .expired: return refuse(.expired)
        case .valid: break
        }
        // A link issued to a member stops working when the member leaves the org.
        if let memberID = pass.memberID, engine.org.member(memberID) == nil { return refuse(.invalid) }

        let units = [unit.id] + (pass.subtree ? engine.org.descendants(of: unit.id).map(\.id) : [])
        let wanted = month.description
        let meetings = try await engine.store.snapshot { tx in try tx.minutes(unitIDs: units, month: wanted) }
        let markdown = query["format"] == "md"
        // Audited before anything is sent: a view that cannot be written to the audit log is not served.
        let entry = AuditEntry(
            at: now, actor: String((pass.memberID ?? pass.auditName).prefix(80)), unitID: unit.id,
            action: markdown ? "minutes.export" : "minutes.view",
            detail: "unit=\(unit.id) month=\(wanted) subtree=\(pass.subtree ? 1 : 0) format=\(markdown ? "md" : "html") meetings=\(meetings.count) \(pass.auditName)")
        try await engine.store.write { tx in try tx.appendAudit(entry) }
        let renderer = MinutesRenderer(language: language, timeZone: config.deliberation.timeZone)
        let title = language.pick("\(unit.name) \(month) 议事纪要", "Minutes of \(unit.name), \(month)")
        let (type, page) = markdown ? ("text/markdown", renderer.markdown(meetings, title: title)) : ("text/html", renderer.html(meetings, title: title))
        return WebhookRoutes.plain(PlainResponse(status: 200, contentType: type + "; charset=utf-8", body: Data(page.utf8)))
    }
}
