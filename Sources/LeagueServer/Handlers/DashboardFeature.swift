import Foundation
import LeagueConfig
import LeagueCore

/// `/看板` (`/dashboard`): a personal, signed, expiring link to the dashboard pages of this group's
/// unit and below; and the dashboard links other answers carry (/进度 T-n, /查询).
enum DashboardFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
        commands["dashboard"] = dashboard
    }

    /// The unit a link issued in this group may open: the group's unit, when it lies in the sender's
    /// part of the tree (a supervisor writing in a group below gets that group's unit, so the link
    /// shown there opens nothing the group may not see).
    static func scope(_ c: CommandContext) throws -> (Member, OrgUnit) {
        let member = try c.requireMember()
        try RegistryScope.check(member, unitID: c.unit.id, org: c.org)
        return (member, c.unit)
    }

    /// A signed dashboard address for the sender (nil when `server.public_url` is not set).
    /// - Parameters:
    ///   - page: `""` (overview), `task/12`, `assessment`, `minutes`, `demands`.
    ///   - params: more query fields (`u`, `month`).
    static func url(_ c: CommandContext, member: Member, scope: OrgUnit, page: String, params: [(String, String)] = []) throws -> String? {
        guard let base = SignedLink.base(c.config) else { return nil }
        let link = SignedLink(key: try SignedLink.key(c.config, tx: c.tx))
        let pass = DashboardPass.issue(scopeID: scope.id, memberID: member.id, now: c.now, ttl: c.config.observability.linkTTLSeconds, link: link)
        // `server.public_url` already ends in the path a reverse proxy serves the bot under.
        return base + DashboardPaths(prefix: "", pass: pass).href(page, params)
    }

    /// `\n看板：<url>` for an answer in chat, or nothing (no public URL, unregistered sender, outside scope).
    static func line(_ c: CommandContext, page: String, params: [(String, String)] = []) -> String {
        guard let (member, scope) = try? scope(c), let url = try? url(c, member: member, scope: scope, page: page, params: params) else { return "" }
        return DashboardTexts.line(url, language: c.language)
    }

    /// `/看板 [单位]`
    static func dashboard(_ c: CommandContext) throws {
        let (member, scope) = try scope(c)
        var params: [(String, String)] = []
        if let word = c.command.args["unit"] {
            guard let unit = c.org.unit(named: word) else {
                throw Refusal(zh: "没有找到单位“\(word)”（可写单位编号或名称）。", en: "No unit “\(word)” (write a unit id or name).")
            }
            guard c.org.isInSubtree(unit.id, of: scope.id) else {
                throw Refusal(zh: "本群的看板只包含\(scope.name)及其下级；\(unit.name)不在其中。", en: "This group's dashboard covers \(scope.name) and the units below it; \(unit.name) is not among them.")
            }
            params.append(("u", unit.id))
        }
        guard let url = try url(c, member: member, scope: scope, page: "", params: params) else {
            throw Refusal(
                zh: "看板需要公网地址：请管理员在 leagueops.yaml 中设置 server.public_url。",
                en: "The dashboard needs a public address: an admin must set server.public_url in leagueops.yaml.")
        }
        try c.tx.appendAudit(AuditEntry(at: c.now, actor: member.id, unitID: c.unit.id, action: "dashboard.link", detail: "scope=\(scope.id)"))
        let ttl = DurationText.human(c.config.observability.linkTTLSeconds, language: c.language)
        try c.reply(
            DashboardTexts.link(url, memberName: member.name, scopeName: scope.name, ttl: ttl, language: c.language),
            mentionSender: true)
    }
}
