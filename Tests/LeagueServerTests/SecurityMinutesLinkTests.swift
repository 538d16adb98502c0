import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Testing

/// Issue 11 point 4: minutes links carry their expiry in the signed text (`deliberation.link_ttl`),
/// an expired or altered link gets a clear page and writes nothing, and every view or export of
/// minutes is in the audit log (readable with `leagueops audit`).
@Suite(.serialized)
struct SecurityMinutesLinkTests {
    /// The path of the minutes link in the newest message to `chat` that has one.
    static func minutesPath(_ bot: TestBot, chat: String) throws -> String {
        let marker = "http://bot.example"
        let text = try #require(bot.fake.to(chat).last { $0.text.contains(marker + "/minutes/") }).text
        let range = try #require(text.range(of: marker, options: .backwards))
        return String(text[range.upperBound...].prefix { !$0.isWhitespace && $0 != "（" })
    }

    /// What a refused request must not add to.
    static func written(_ bot: TestBot) async throws -> [Int] {
        var counts: [Int] = []
        for table in ["audit", "events", "inbound", "outbox", "delib_values"] { counts.append(try await bot.store.rowCount(table)) }
        return counts
    }

    @Test func aMinutesLinkWorksUntilItsTTLThenAnswers410AndAnAlteredLink403WithoutStoringAnything() async throws {
        try await withRunning(try await dashboardBot(extra: "deliberation: {link_ttl: 2h}")) { bot in
            for text in ["/议事 开始 网格议事会", "路灯坏了三盏", "/决议 本周内报修", "/议事 结束"] {
                #expect(try await bot.say(text, in: "chat-g1", from: "u-g1") == 200)
            }
            try await bot.waitUntil("the minutes summary") { $0.contains { $0.group == "chat-g1" && $0.text.contains("📝 议事纪要") } }
            #expect(try await bot.say("/纪要", in: "chat-g1", from: "u-g1") == 200)
            try await bot.waitUntil("the /纪要 answer") { $0.contains { $0.group == "chat-g1" && $0.text.contains("议事纪要：") && $0.text.contains("/minutes/") } }
            let link = try Self.minutesPath(bot, chat: "chat-g1")
            #expect(link.contains("m=m-g1&e="), "the link names who asked for it and its expiry: \(link)")
            let issuedAt = bot.clock.now()
            let expires = try #require(link.components(separatedBy: "e=").last?.prefix { $0.isNumber }).description
            #expect(abs(Double(expires)! - issuedAt.timeIntervalSince1970 - 7200) <= 1, "expires after link_ttl (2h): \(link)")

            let (status, page) = try await bot.request("GET", link)
            #expect(status == 200)
            #expect(page.contains("本周内报修") && page.contains("路灯坏了三盏"))
            let (mdStatus, markdown) = try await bot.request("GET", link + "&format=md")
            #expect(mdStatus == 200 && markdown.contains("本周内报修"))
            let audit = try await bot.audit().filter { $0.action.hasPrefix("minutes.") }
            #expect(audit.map(\.action).prefix(3) == ["minutes.export", "minutes.view", "minutes.link"], "\(audit)")
            let linkName = try #require(audit.first?.detail.components(separatedBy: " ").last)
            #expect(linkName.hasPrefix("link:") && audit[2].detail.hasSuffix(linkName), "the view names the link /纪要 handed out: \(audit)")
            for entry in audit.prefix(3) {
                #expect(entry.actor == "m-g1" && entry.unitID == "g1" && entry.outcome == "allowed")
                #expect(entry.detail.contains("unit=g1") && entry.detail.contains("month=") && entry.detail.contains("link:"))
                #expect(!entry.detail.contains("路灯") && !entry.detail.contains("网格员"), "no minutes text nor names in the audit row: \(entry.detail)")
            }

            // Altered links: another unit, a later expiry, the subtree, another member, no signature.
            let before = try await Self.written(bot)
            let altered = [
                link.replacingOccurrences(of: "/minutes/g1/", with: "/minutes/g2/"),
                replacing(link, "e", with: "4102444800"),
                replacing(link, "subtree", with: "1"),
                replacing(link, "m", with: "m-d"),
                replacing(link, "sig", with: ""),
                String(link.prefix { $0 != "?" }),
            ]
            for path in altered {
                let (refused, body) = try await bot.request("GET", path)
                #expect(refused == 403, "\(path)")
                #expect(body.contains("此纪要链接无效") && body.contains("/纪要"), "\(path): \(body)")
                #expect(!body.contains("路灯"))
            }
            #expect(try await Self.written(bot) == before, "a refused link writes nothing")

            // One second before the expiry it still works; after it, 410 in Chinese, and nothing stored.
            bot.advance(7200 - 2)
            #expect(try await bot.request("GET", link).0 == 200)
            let beforeExpiry = try await Self.written(bot)
            bot.advance(3)
            let (gone, goneBody) = try await bot.request("GET", link)
            #expect(gone == 410)
            #expect(goneBody.contains("此纪要链接已过期") && goneBody.contains("发送 /纪要"), "\(goneBody)")
            #expect(!goneBody.contains("路灯"))
            #expect(try await Self.written(bot) == beforeExpiry, "an expired link writes nothing")
        }
    }

    @Test func withLocaleEnTheRefusalPagesAreInEnglish() async throws {
        try await withRunning(try await dashboardBot(extra: "locale: en\ndeliberation: {link_ttl: 1h}")) { bot in
            let key = try await bot.store.write { tx in try DeliberationFeature.linkKey(bot.config, tx: tx) }
            let pass = DeliberationFeature.linkPass(bot.config, unitID: "g1", month: "2026-11", subtree: false, memberID: "m-g1", now: bot.clock.now(), key: key)
            #expect(try await bot.request("GET", pass.path).0 == 200)
            let (forged, forgedBody) = try await bot.request("GET", replacing(pass.path, "sig", with: String(repeating: "0", count: 32)))
            #expect(forged == 403 && forgedBody.contains("This minutes link is not valid"), "\(forgedBody)")
            bot.advance(3601)
            let (gone, body) = try await bot.request("GET", pass.path)
            #expect(gone == 410 && body.contains("This minutes link has expired") && body.contains("Send /minutes"), "\(body)")
        }
    }

    @Test func linkTTLIsReadFromTheConfigWithASevenDayDefault() throws {
        #expect(try ConfigLoader.load(path: try writeTestConfig()).deliberation.linkTTLSeconds == 7 * 86400)
        #expect(try ConfigLoader.load(path: try writeTestConfig(extra: "deliberation: {link_ttl: 3d}")).deliberation.linkTTLSeconds == 3 * 86400)
        let bad = try writeTestConfig(extra: "deliberation: {link_ttl: forever}")
        #expect { _ = try ConfigLoader.load(path: bad) } throws: { "\($0)".contains("deliberation.link_ttl") && "\($0)".contains("leagueops.yaml:") }
    }

    @Test func theSignedTextCoversEveryFieldAndTheExpiry() {
        let link = SignedLink(key: String(repeating: "k", count: 32))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let pass = MinutesPass.issue(unitID: "g1", month: "2026-11", subtree: false, memberID: "m-g1", now: now, ttl: 600, link: link)
        #expect(pass.expires == 1_800_000_600)
        #expect(pass.verdict(link, now: now) == .valid)
        #expect(pass.verdict(link, now: now.addingTimeInterval(599)) == .valid)
        #expect(pass.verdict(link, now: now.addingTimeInterval(600)) == .expired)
        var changed = pass
        changed.expires += 3600
        #expect(changed.verdict(link, now: now) == .invalid, "a later expiry breaks the signature")
        changed = pass
        changed.month = "2026-10"
        #expect(changed.verdict(link, now: now) == .invalid)
        changed = pass
        changed.subtree = true
        #expect(changed.verdict(link, now: now) == .invalid)
        changed = pass
        changed.memberID = nil
        #expect(changed.verdict(link, now: now) == .invalid)
        #expect(pass.verdict(SignedLink(key: String(repeating: "j", count: 32)), now: now) == .invalid, "another key")
        // A dashboard signature over the same fields never opens minutes.
        let dashboard = link.signature("dashboard", pass.fields, expires: pass.expires)
        changed = pass
        changed.signature = dashboard
        #expect(changed.verdict(link, now: now) == .invalid)
        var query: [String: String] = [:]
        for pair in pass.path.split(separator: "?")[1].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            query[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let parsed = MinutesPass.from(unitID: "g1", month: "2026-11", query: query)
        #expect(parsed == pass, "the path carries the pass")
    }
}

/// The built `leagueops` lists minutes views, exports and backups in its audit.
@Suite(.serialized, .tags(.process))
struct SecurityMinutesLinkProcessTests {
    @Test func leagueopsAuditListsMinutesViewsExportsAndBackups() async throws {
        guard let binary = builtLeagueops() else { return }
        let path = try writeTestConfig(extra: "deliberation: {link_ttl: 1h}")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try await withLiveBot(configPath: path) { bot in
            let key = try await bot.store.write { tx in try DeliberationFeature.linkKey(bot.config, tx: tx) }
            let pass = DeliberationFeature.linkPass(bot.config, unitID: "g1", month: "2026-11", subtree: false, memberID: "m-g1", now: bot.clock.now(), key: key)
            #expect(try await bot.request("GET", pass.path).0 == 200)
        }

        let export = try runProcess(binary, ["minutes", "export", "--config", path, "--unit", "g1", "--month", "2026-11", "--out", "g1.md"], in: folder)
        #expect(export.status == 0, "\(export.err)")
        let exportMode = try #require(FileManager.default.attributesOfItem(atPath: folder + "/g1.md")[.posixPermissions] as? Int)
        #expect(exportMode & 0o077 == 0, "the exported minutes have mode \(String(exportMode, radix: 8))")
        let audit = try runProcess(binary, ["audit", "--config", path, "--action", "minutes."], in: folder)
        #expect(audit.status == 0, "\(audit.err)")
        let lines = audit.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(audit.out)")
        let export0 = lines.first ?? ""
        #expect(export0.contains("\tallowed\tminutes.export\toperator:") && export0.contains("\tg1\tunit=g1 month=2026-11"), "\(export0)")
        let view = lines.last ?? ""
        #expect(view.contains("\tallowed\tminutes.view\tm-g1\tg1\tunit=g1 month=2026-11") && view.contains("format=html"), "\(view)")
        #expect(lines.allSatisfy { $0.hasPrefix("20") && $0.contains("+08:00") }, "times in the bot's time zone")

        let csv = try runProcess(binary, ["audit", "--config", path, "--unit", "g1", "--limit", "1", "--format", "csv"], in: folder)
        let rows = csv.out.split(separator: "\n").map(String.init)
        #expect(rows.first == AuditEntry.csvHeader && rows.count == 2 && rows[1].contains(",minutes.export,"), "\(csv.out)")
        let none = try runProcess(binary, ["audit", "--config", path, "--action", "registry.show"], in: folder)
        #expect(none.status == 0 && none.out.isEmpty && none.err.contains("0 audit entries"), "\(none)")

        // A backup copies everything (the youth registry too): owner-only, and in the audit log.
        let copy = folder + "/copy.sqlite"
        let backup = try runProcess(binary, ["backup", "--config", path, "--out", copy], in: folder)
        #expect(backup.status == 0, "\(backup.err)")
        let mode = try #require(FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0, "the backup has mode \(String(mode, radix: 8))")
        let backups = try runProcess(binary, ["audit", "--config", path, "--action", "store.backup"], in: folder)
        #expect(backups.out.contains("\tstore.backup\toperator:") && backups.out.contains("file=copy.sqlite"), "\(backups.out)")
    }
}
