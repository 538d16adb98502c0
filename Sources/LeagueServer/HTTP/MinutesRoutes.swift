import Foundation
import HTTPTypes
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import NIOCore

/// `GET /minutes/<unit>/<month>?sig=…[&subtree=1][&format=md]`: the minutes page a /纪要 link points to.
/// The signature (HMAC of unit, month and scope) is what makes a link valid; without it: 403.
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
        let subtree = query["subtree"] == "1"
        let engine = app.engine
        guard let unit = engine.config.org.unit(unitID), let month = DeliberationMonth(text: monthText) else {
            return WebhookRoutes.plain(.text("no such minutes\n", status: 404))
        }
        let config = engine.config
        let units = [unit.id] + (subtree ? config.org.descendants(of: unit.id).map(\.id) : [])
        // The signature first, before anything else is read; everything on a reader connection:
        // a loop of bad links never touches the writer that webhooks wait for.
        let forbidden = WebhookRoutes.plain(.text("link signature missing or wrong\n", status: 403))
        guard let given = query["sig"], !given.isEmpty else { return forbidden }
        let key: String
        if let secret = config.deliberation.linkSecret {
            key = secret
        } else {
            guard let stored = try await engine.store.snapshot({ try $0.deliberationValue("link-key") }) else { return forbidden }
            key = stored
        }
        let expected = DeliberationFeature.linkSignature(unitID: unit.id, month: month.description, subtree: subtree, key: key)
        guard Bytes.constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else { return forbidden }
        let wanted = month.description
        let meetings = try await engine.store.snapshot { tx in try tx.minutes(unitIDs: units, month: wanted) }
        let renderer = MinutesRenderer(language: config.language, timeZone: config.deliberation.timeZone)
        let title = config.language.pick("\(unit.name) \(month) 议事纪要", "Minutes of \(unit.name), \(month)")
        if query["format"] == "md" {
            return WebhookRoutes.plain(PlainResponse(status: 200, contentType: "text/markdown; charset=utf-8", body: Data(renderer.markdown(meetings, title: title).utf8)))
        }
        return WebhookRoutes.plain(PlainResponse(status: 200, contentType: "text/html; charset=utf-8", body: Data(renderer.html(meetings, title: title).utf8)))
    }
}
