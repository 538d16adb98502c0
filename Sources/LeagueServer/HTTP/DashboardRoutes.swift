import Foundation
import HTTPTypes
import Hummingbird
import LeagueConfig
import LeagueCore
import NIOCore
import ServiceLifecycle

/// The supervisors' dashboard (issue 14): `GET /dashboard[/task/<n>[/events]|/assessment[.csv]|/minutes|/demands]`.
///
/// Every page needs the signed pass a /看板 link carries (`s`, `m`, `e`, `sig`): the unit it opens
/// (and everything below it), the member it was issued to and its expiry. Pages read in one read
/// transaction; each view (allowed or refused) is written to the audit log afterwards.
struct DashboardRoutes {
    let app: LeagueApp

    func add(to router: Router<BasicRequestContext>) {
        router.get("/dashboard") { request, _ in try await serve(request, page: .overview) }
        router.get("/dashboard/task/:id") { request, context in try await serve(request, page: .task(Int(context.parameters.get("id") ?? "") ?? 0)) }
        router.get("/dashboard/task/:id/events") { request, context in try await events(request, taskID: Int(context.parameters.get("id") ?? "") ?? 0) }
        router.get("/dashboard/assessment") { request, _ in try await serve(request, page: .assessment) }
        router.get("/dashboard/assessment.csv") { request, _ in try await serve(request, page: .assessmentCSV) }
        router.get("/dashboard/minutes") { request, _ in try await serve(request, page: .minutes) }
        router.get("/dashboard/demands") { request, _ in try await serve(request, page: .demands) }
    }

    enum Page: Sendable {
        case overview, task(Int), assessment, assessmentCSV, minutes, demands

        var name: String {
            switch self {
            case .task(let id): "task/\(id)"
            case .assessmentCSV: "assessment.csv"
            default: "\(self)"
            }
        }
    }

    /// What a request may see, or why not.
    enum Access: Sendable {
        case allowed(DashboardPaths, unit: OrgUnit)
        case refused(DashboardRefusal)
    }

    /// Checks the pass (signature, expiry, member still in the tree) and the unit asked for against its scope.
    static func access(_ query: [String: String], config: BotConfig, reader: any StoreReader, now: Date) throws -> Access {
        guard let pass = DashboardPass.from(query: query), let key = try SignedLink.key(config, reader: reader) else { return .refused(.invalid) }
        switch pass.verdict(SignedLink(key: key), now: now) {
        case .invalid: return .refused(.invalid)
        case .expired: return .refused(.expired)
        case .valid: break
        }
        guard let member = config.org.member(pass.memberID), RegistryScope.allows(member, unitID: pass.scopeID, org: config.org),
            let scope = config.org.unit(pass.scopeID)
        else { return .refused(.invalid) }
        let unit = query["u"].flatMap { config.org.unit($0) } ?? (query["u"] == nil ? scope : nil)
        guard let unit, config.org.isInSubtree(unit.id, of: scope.id) else { return .refused(.outOfScope) }
        return .allowed(DashboardPaths(prefix: DashboardPaths.prefix(config), pass: pass), unit: unit)
    }

    static func html(_ status: HTTPResponse.Status, _ text: String, type: String = "text/html; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: type, .cacheControl: "no-store"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// What a page request produced, before the audit write.
    struct Outcome: Sendable {
        var status: HTTPResponse.Status
        var body: String
        var type = "text/html; charset=utf-8"
        var unitID: String?
        var refusal: String?
    }

    func serve(_ request: Request, page: Page) async throws -> Response {
        let query = WebhookRoutes.query(request.uri.query ?? "")
        let engine = app.engine
        let config = engine.config
        let now = engine.clock.now()
        let l = config.language
        let figures = app.dashboardFigures
        let outcome: Outcome = try await engine.store.read { reader in
            let access = try Self.access(query, config: config, reader: reader, now: now)
            guard case .allowed(let paths, let unit) = access else {
                guard case .refused(let why) = access else { fatalError("unreachable") }
                return Outcome(status: .forbidden, body: DashboardHTML.refused(reason: why, language: l), refusal: why.rawValue)
            }
            let data = DashboardData(config: config, reader: reader, paths: paths, now: now, figures: figures)
            let month =
                query["month"].flatMap { DeliberationMonth.parse($0, now: now, timeZone: config.timeZone)?.description }
                ?? TimeFormat(timeZone: config.timeZone).month(now)
            /// A page about `unit` in its frame.
            func shown(_ zh: String, _ en: String, _ body: (DashboardFrame) -> String) -> Outcome {
                Outcome(status: .ok, body: body(data.frame(title: l.pick(zh, en), unit: unit)), unitID: unit.id)
            }
            switch page {
            case .overview:
                let value = try data.overview(unit)
                return shown("\(unit.name) 概览", "\(unit.name): overview") { DashboardHTML.overview(value, frame: $0) }
            case .task(let id):
                guard let value = try data.rollCall(id) else {
                    return Outcome(status: .notFound, body: DashboardHTML.refused(reason: .outOfScope, language: l), refusal: "no-task")
                }
                return shown("\(value.label) 点名", "\(value.label) roll call") { DashboardHTML.rollCall(value, frame: $0) }
            case .assessment, .assessmentCSV:
                let roles = config.registry.permissions.assessment
                guard let member = config.org.member(paths.pass.memberID), roles.contains(where: member.has) else {
                    return Outcome(status: .forbidden, body: DashboardHTML.refused(reason: .role, language: l), refusal: "role")
                }
                if case .assessmentCSV = page {
                    let report = try data.assessmentReport(unit, month: month)
                    return Outcome(status: .ok, body: report.csv(language: l), type: "text/csv; charset=utf-8", unitID: unit.id)
                }
                let value = try data.assessment(unit, month: month)
                return shown("\(unit.name) \(month) 考核", "\(unit.name): assessment \(month)") { DashboardHTML.assessment(value, frame: $0) }
            case .minutes:
                let value = try data.deliberation(unit, month: month, minutesKey: try SignedLink.key(config, reader: reader))
                return shown("\(unit.name) \(month) 议事纪要", "\(unit.name): minutes \(month)") { DashboardHTML.deliberation(value, frame: $0) }
            case .demands:
                let value = try data.demands(unit)
                return shown("\(unit.name) 诉求", "\(unit.name): demands") { DashboardHTML.demands(value, frame: $0) }
            }
        }
        try await audit(query, page: page.name, outcome: outcome, now: now)
        return Self.html(outcome.status, outcome.body, type: outcome.type)
    }

    /// Writes a page view to the audit log (`dashboard.view`, allowed or refused).
    func audit(_ query: [String: String], page: String, outcome: Outcome, now: Date) async throws {
        let actor = query["m"].map { app.engine.config.org.member($0) != nil ? $0 : "unknown:\($0)" } ?? "unknown"
        var detail = "page=\(page)"
        if let unit = outcome.unitID ?? query["u"] { detail += " unit=\(unit)" }
        if let scope = query["s"] { detail += " scope=\(scope)" }
        if let why = outcome.refusal { detail += " reason=\(why)" }
        let entry = AuditEntry(
            at: now, actor: String(actor.prefix(80)), unitID: query["s"].flatMap { app.engine.config.org.unit($0)?.id },
            action: "dashboard.view", detail: String(detail.prefix(300)), outcome: outcome.refusal == nil ? "allowed" : "refused")
        try await app.engine.store.write { tx in try tx.appendAudit(entry) }
    }

    // MARK: Live roll call

    /// `text/event-stream` of a roll call: a `rollcall` event with every row at once, then one with the
    /// rows that changed whenever an acknowledgement (or a deadline) changes a row; `end` when the task
    /// is closed or the link expires. The stream reads the store (a read transaction) when a commit
    /// wakes it (`LeagueApp.liveBell`: the ingestor and the timer service ring it after each commit), when the
    /// task's deadline passes (waiting rows turn missing), and otherwise every `app.liveFallback`
    /// seconds at the latest; reads are at least 100 ms apart, so an acknowledgement storm costs a
    /// stream ten reads a second, not one per commit. A comment every 15 s keeps proxies from closing it.
    func events(_ request: Request, taskID: Int) async throws -> Response {
        let query = WebhookRoutes.query(request.uri.query ?? "")
        let engine = app.engine
        let config = engine.config
        let l = config.language
        let now = engine.clock.now()
        let live = app.liveBell
        let firstGeneration = live.generation
        let first: (RollCallPage, DashboardPaths)? = try await engine.store.read { reader in
            guard case .allowed(let paths, _) = try Self.access(query, config: config, reader: reader, now: now) else { return nil }
            return try DashboardData(config: config, reader: reader, paths: paths, now: now).rollCall(taskID).map { ($0, paths) }
        }
        try await audit(
            query, page: "task/\(taskID)/events",
            outcome: Outcome(
                status: first == nil ? .forbidden : .ok, body: "",
                refusal: first == nil ? "invalid-or-out-of-scope" : nil), now: now)
        guard let (initial, paths) = first else {
            return Self.html(.forbidden, DashboardHTML.refused(reason: .invalid, language: l))
        }
        let fallback = max(app.liveFallback, 0.02)
        let minGap = min(0.1, fallback)
        let store = engine.store
        let clock = engine.clock
        let expires = Date(timeIntervalSince1970: Double(paths.pass.expires))
        let body = ResponseBody { writer in
            func send(_ event: String, _ data: String) async throws {
                try await writer.write(ByteBuffer(string: "event: \(event)\ndata: \(data)\n\n"))
            }
            try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
            try await send("rollcall", DashboardHTML.rollCallUpdate(initial, changed: Array(initial.rows.indices), language: l))
            var last = initial
            var seen = firstGeneration
            var lastRead = ContinuousClock.now
            var lastWrite = ContinuousClock.now
            let started = ContinuousClock.now
            streaming: while last.eventsHref != nil, !Task.isCancelled, !Task.isShuttingDownGracefully, ContinuousClock.now - started < .seconds(1800) {
                // Read again after a commit, at the deadline (rows turn from waiting to missing), or after the fallback.
                var readIn = fallback
                let untilDeadline = last.targetSeconds - last.elapsed
                if untilDeadline > 0, last.rows.contains(where: { $0.state == .waiting }) { readIn = min(readIn, untilDeadline + 0.01) }
                let readAt = ContinuousClock.now + .milliseconds(Int64(readIn * 1000))
                while true {
                    // In between, a comment every 15 s keeps proxies from closing the stream (no read for it).
                    let keepAliveAt = lastWrite + .seconds(15)
                    let before = seen
                    seen = await live.wait(after: seen, seconds: max((min(readAt, keepAliveAt) - ContinuousClock.now) / .seconds(1), 0))
                    if Task.isCancelled || Task.isShuttingDownGracefully { break streaming }
                    if seen != before || ContinuousClock.now >= readAt { break }
                    if ContinuousClock.now >= keepAliveAt {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        lastWrite = ContinuousClock.now
                    }
                }
                // Coalesce bursts of commits: at most one read per `minGap`.
                let sinceRead = (ContinuousClock.now - lastRead) / .seconds(1)
                if sinceRead < minGap {
                    do { try await Task.sleep(for: .milliseconds(Int64((minGap - sinceRead) * 1000))) } catch { break }
                    seen = live.generation
                }
                let at = clock.now()
                if at >= expires { break }
                lastRead = ContinuousClock.now
                guard
                    let page = try await store.read({ reader in
                        try DashboardData(config: config, reader: reader, paths: paths, now: at).rollCall(taskID)
                    })
                else { break }
                let changed = page.rows.indices.filter { !last.rows.indices.contains($0) || last.rows[$0] != page.rows[$0] }
                if !changed.isEmpty || page.steps != last.steps || page.status != last.status {
                    try await send("rollcall", DashboardHTML.rollCallUpdate(page, changed: changed, language: l))
                    lastWrite = ContinuousClock.now
                }
                last = page
            }
            try? await send("end", "{}")
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"], body: body)
    }
}
