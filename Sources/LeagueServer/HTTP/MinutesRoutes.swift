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
        router.get("/minutes/:unit/:month") { request, context in try await page(request, context) }
    }

    func page(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = WebhookRoutes.query(request.uri.query ?? "")
        let unitID = context.parameters.get("unit") ?? ""
        let monthText = context.parameters.get("month") ?? ""
        let subtree = query["subtree"] == "1"
        let engine = app.engine
        guard let unit = engine.org.unit(unitID), let month = DeliberationMonth(text: monthText) else {
            return WebhookRoutes.plain(.text("no such minutes\n", status: 404))
        }
        let config = engine.config
        let units = [unit.id] + (subtree ? engine.org.descendants(of: unit.id).map(\.id) : [])
        let (key, meetings) = try await engine.store.write { tx in
            (try DeliberationFeature.linkKey(config, tx: tx), try tx.minutes(unitIDs: units, month: month.description))
        }
        let expected = DeliberationFeature.linkSignature(unitID: unit.id, month: month.description, subtree: subtree, key: key)
        guard let given = query["sig"], Bytes.constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else {
            return WebhookRoutes.plain(.text("link signature missing or wrong\n", status: 403))
        }
        let renderer = MinutesRenderer(language: config.language, timeZone: config.deliberation.timeZone)
        let title = config.language.pick("\(unit.name) \(month) 议事纪要", "Minutes of \(unit.name), \(month)")
        if query["format"] == "md" {
            return WebhookRoutes.plain(PlainResponse(status: 200, contentType: "text/markdown; charset=utf-8", body: Data(renderer.markdown(meetings, title: title).utf8)))
        }
        return WebhookRoutes.plain(PlainResponse(status: 200, contentType: "text/html; charset=utf-8", body: Data(renderer.html(meetings, title: title).utf8)))
    }
}
