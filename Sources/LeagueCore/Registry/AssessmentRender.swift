import Foundation

/// The assessment as Markdown, CSV, HTML and a short chat answer.
extension AssessmentReport {
    /// The report's output formats.
    public enum Format: String, Sendable, CaseIterable {
        case md, csv, html
    }

    /// Renders the whole report.
    public func render(_ format: Format, org: OrgTree, language: Language) -> String {
        switch format {
        case .md: return markdown(org: org, language: language)
        case .csv: return csv(language: language)
        case .html: return html(org: org, language: language)
        }
    }

    static func minutes(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        return seconds < 60 ? "\(Int(seconds.rounded()))s" : String(format: "%.1fm", seconds / 60)
    }

    static func percent(_ share: Double?) -> String {
        guard let share else { return "—" }
        return String(format: "%.0f%%", share * 100)
    }

    func header(_ language: Language) -> [String] {
        language == .zh
            ? ["单位", "层级", "收到任务", "按时确认率", "确认用时中位数", "确认用时P90", "超时", "收到上报", "按时认领", "议事日纪要", "诉求收集", "诉求解决", "诉求超期", "评级"]
            : [
                "Unit", "Tier", "Tasks received", "Acked on time", "Median ack", "P90 ack", "Breaches", "Reports received", "Claimed on time", "Minutes", "Demands collected", "Resolved", "Overdue",
                "Grade",
            ]
    }

    func cells(_ f: UnitFigures, _ language: Language) -> [String] {
        [
            f.name, TaskTexts.tierName(f.tier, language), String(f.tasksReceived), Self.percent(f.onTimeShare),
            Self.minutes(f.medianAckSeconds), Self.minutes(f.p90AckSeconds), String(f.breaches), String(f.reportsReceived),
            "\(f.reportsClaimedOnTime)/\(f.reportsClaimed)", f.minutesHeld ? language.pick("有", "yes") : language.pick("无", "no"),
            String(f.demandsCollected), String(f.demandsResolved), String(f.demandsOverdue), f.grade.name(language),
        ]
    }

    /// Units in tier order (top first), then by id.
    func orderedUnits() -> [UnitFigures] {
        let rank = Dictionary(uniqueKeysWithValues: tiers.enumerated().map { ($1, $0) })
        return units.sorted { (rank[$0.tier] ?? 99, $0.unitID) < (rank[$1.tier] ?? 99, $1.unitID) }
    }

    /// The grade thresholds, as written under the table.
    public func gradeRule(_ language: Language) -> String {
        let s = settings
        let minutes = s.requireMinutes ? language.pick("，网格须有议事日纪要", ", and grids must have deliberation-day minutes") : ""
        return language.pick(
            "评级规则：按时确认率 ≥ \(Self.percent(s.green))、超时 ≤ \(s.maxBreachesGreen) 次、无超期诉求\(minutes)为绿；按时确认率 ≥ \(Self.percent(s.yellow)) 为黄；低于 \(Self.percent(s.yellow)) 为红。本月未收到任务的单位按确认率 100% 计。",
            "Grades: green with ≥ \(Self.percent(s.green)) acknowledged on time, ≤ \(s.maxBreachesGreen) breaches and no overdue demand\(minutes); yellow with ≥ \(Self.percent(s.yellow)); red below \(Self.percent(s.yellow)). A unit that received no task counts as 100%."
        )
    }

    /// The ranking rule, as written under the ranking.
    public func rankingRule(_ language: Language) -> String {
        language.pick(
            "排名规则：按时确认率从高到低，其次超时次数少、确认用时中位数短、解决诉求多；每层前 \(settings.candidates) 名且评级为绿的单位列为“示范网格团组织”候选。",
            "Ranking: on-time share (high first), then fewer breaches, faster median acknowledgement, more demands resolved; the top \(settings.candidates) green units of each tier are candidates for 示范网格团组织."
        )
    }

    public func cadreRule(_ language: Language) -> String {
        language.pick(
            "团干部排名：按时确认 + 认领上报 + 解决诉求 合计，从高到低；前 \(settings.candidates) 名列为“最美网格团干部”候选。",
            "Cadres: on-time acknowledgements + claims + demands resolved, highest first; the top \(settings.candidates) are candidates for 最美网格团干部."
        )
    }

    func name(_ unitID: String) -> String { unit(unitID)?.name ?? unitID }

    public func markdown(org: OrgTree, language: Language) -> String {
        var out = "# " + language.pick("\(month) 月度考核 — \(name(scopeUnitID))", "Monthly assessment \(month) — \(name(scopeUnitID))") + "\n\n"
        let head = header(language)
        out += "| " + head.joined(separator: " | ") + " |\n|" + String(repeating: " --- |", count: head.count) + "\n"
        for f in orderedUnits() {
            out += "| " + cells(f, language).map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        out += "\n" + gradeRule(language) + "\n\n## " + language.pick("各层排名", "Ranking by tier") + "\n\n"
        for tier in tiers {
            guard let ranked = ranking[tier], !ranked.isEmpty else { continue }
            let candidates = unitCandidates[tier] ?? []
            out += "- **\(TaskTexts.tierName(tier, language))**: " + ranked.prefix(10).enumerated().map { "\($0.offset + 1). \(name($0.element))" }.joined(separator: "; ")
            out += ranked.count > 10 ? language.pick("（共 \(ranked.count) 个）", " (\(ranked.count) in all)") : ""
            out += "\n  - " + language.pick("示范网格团组织候选：", "示范网格团组织 candidates: ") + (candidates.isEmpty ? "—" : candidates.map(name).joined(separator: "、")) + "\n"
        }
        out += "\n" + rankingRule(language) + "\n\n## " + language.pick("团干部", "Cadres") + "\n\n"
        out += language.pick(
            "| 团干部 | 单位 | 确认 | 按时确认 | 认领 | 解决诉求 |\n| --- | --- | --- | --- | --- | --- |\n",
            "| Cadre | Unit | Acks | On time | Claims | Resolutions |\n| --- | --- | --- | --- | --- | --- |\n")
        for c in cadres.prefix(50) {
            out += "| \(c.name) | \(org.unit(c.unitID)?.name ?? c.unitID) | \(c.acknowledgements) | \(c.acknowledgementsOnTime) | \(c.claims) | \(c.resolutions) |\n"
        }
        if cadres.count > 50 { out += language.pick("\n（共 \(cadres.count) 名，仅列前 50 名）\n", "\n(\(cadres.count) in all, top 50 shown)\n") }
        out +=
            "\n" + language.pick("最美网格团干部候选：", "最美网格团干部 candidates: ")
            + (cadreCandidates.isEmpty ? "—" : cadreCandidates.compactMap { id in cadres.first { $0.memberID == id }?.name }.joined(separator: "、")) + "\n\n"
        out += cadreRule(language) + "\n"
        return out
    }

    /// Units, then a blank line, then cadres; numbers unformatted (seconds, shares as decimals).
    public func csv(language: Language) -> String {
        var out =
            "unit_id,unit,tier,tasks_received,acked,acked_on_time,on_time_share,median_ack_s,p90_ack_s,breaches,reports_received,reports_claimed,reports_claimed_on_time,minutes,demands_collected,demands_resolved,demands_overdue,grade,rank_in_tier,candidate\n"
        var rankOf: [String: Int] = [:]
        for (_, ids) in ranking { for (i, id) in ids.enumerated() { rankOf[id] = i + 1 } }
        let candidateSet = Set(unitCandidates.values.flatMap { $0 })
        func number(_ d: Double?) -> String { d.map { String(format: "%.1f", $0) } ?? "" }
        for f in orderedUnits() {
            let row: [String] = [
                f.unitID, f.name, f.tier, String(f.tasksReceived), String(f.acknowledged), String(f.acknowledgedOnTime),
                f.onTimeShare.map { String(format: "%.4f", $0) } ?? "", number(f.medianAckSeconds), number(f.p90AckSeconds), String(f.breaches),
                String(f.reportsReceived), String(f.reportsClaimed), String(f.reportsClaimedOnTime), f.minutesHeld ? "yes" : "no",
                String(f.demandsCollected), String(f.demandsResolved), String(f.demandsOverdue), f.grade.rawValue,
                String(rankOf[f.unitID] ?? 0), candidateSet.contains(f.unitID) ? "yes" : "no",
            ]
            out += CSV.row(row) + "\n"
        }
        out += "\nmember_id,cadre,unit_id,acks,acks_on_time,claims,resolutions,candidate\n"
        let cadreSet = Set(cadreCandidates)
        for c in cadres {
            out +=
                CSV.row([
                    c.memberID, c.name, c.unitID, String(c.acknowledgements), String(c.acknowledgementsOnTime), String(c.claims),
                    String(c.resolutions), cadreSet.contains(c.memberID) ? "yes" : "no",
                ]) + "\n"
        }
        return out
    }

    public func html(org: OrgTree, language: Language) -> String {
        let title = HTML.escape(language.pick("\(month) 月度考核 — \(name(scopeUnitID))", "Monthly assessment \(month) — \(name(scopeUnitID))"))
        var out = "<!doctype html>\n<html lang=\"\(language.rawValue)\"><head><meta charset=\"utf-8\"><title>\(title)</title>\n"
        out +=
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}.red{background:#fdd}.yellow{background:#ffd}.green{background:#dfd}</style></head><body>\n"
        out += "<h1>\(title)</h1>\n<table>\n<tr>" + header(language).map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>\n"
        for f in orderedUnits() {
            out += "<tr class=\"\(f.grade.rawValue)\">" + cells(f, language).map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>\n"
        }
        out += "</table>\n<p>\(HTML.escape(gradeRule(language)))</p>\n<h2>\(HTML.escape(language.pick("各层排名", "Ranking by tier")))</h2>\n<ul>\n"
        for tier in tiers {
            guard let ranked = ranking[tier], !ranked.isEmpty else { continue }
            let candidates = (unitCandidates[tier] ?? []).map(name).joined(separator: "、")
            out += "<li><b>\(HTML.escape(TaskTexts.tierName(tier, language)))</b>: " + HTML.escape(ranked.prefix(10).map(name).joined(separator: "; "))
            out += "<br>" + HTML.escape(language.pick("示范网格团组织候选：", "示范网格团组织 candidates: ") + (candidates.isEmpty ? "—" : candidates)) + "</li>\n"
        }
        out += "</ul>\n<p>\(HTML.escape(rankingRule(language)))</p>\n<h2>\(HTML.escape(language.pick("团干部", "Cadres")))</h2>\n<table>\n"
        out += language.pick(
            "<tr><th>团干部</th><th>单位</th><th>确认</th><th>按时确认</th><th>认领</th><th>解决诉求</th></tr>\n",
            "<tr><th>Cadre</th><th>Unit</th><th>Acks</th><th>On time</th><th>Claims</th><th>Resolutions</th></tr>\n")
        for c in cadres.prefix(200) {
            out +=
                "<tr><td>\(HTML.escape(c.name))</td><td>\(HTML.escape(org.unit(c.unitID)?.name ?? c.unitID))</td><td>\(c.acknowledgements)</td><td>\(c.acknowledgementsOnTime)</td><td>\(c.claims)</td><td>\(c.resolutions)</td></tr>\n"
        }
        let names = cadreCandidates.compactMap { id in cadres.first { $0.memberID == id }?.name }.joined(separator: "、")
        out += "</table>\n<p>\(HTML.escape(language.pick("最美网格团干部候选：", "最美网格团干部 candidates: ") + (names.isEmpty ? "—" : names)))</p>\n"
        out += "<p>\(HTML.escape(cadreRule(language)))</p>\n</body></html>\n"
        return out
    }

    /// A short answer for chat: the unit's own line, its subtree's grades, the candidates; a link when given.
    public func chat(org: OrgTree, language: Language, link: String?) -> String {
        var lines = [language.pick("📈 \(name(scopeUnitID)) \(month) 考核", "📈 Assessment \(month) — \(name(scopeUnitID))")]
        if let f = unit(scopeUnitID) {
            lines.append(
                language.pick(
                    "本单位：收到任务 \(f.tasksReceived)，按时确认 \(Self.percent(f.onTimeShare))，中位 \(Self.minutes(f.medianAckSeconds))，P90 \(Self.minutes(f.p90AckSeconds))，超时 \(f.breaches)，按时认领上报 \(f.reportsClaimedOnTime)/\(f.reportsClaimed)，纪要\(f.minutesHeld ? "有" : "无")，诉求 收集\(f.demandsCollected)/解决\(f.demandsResolved)/超期\(f.demandsOverdue) — \(f.grade.name(.zh))",
                    "This unit: \(f.tasksReceived) tasks, \(Self.percent(f.onTimeShare)) on time, median \(Self.minutes(f.medianAckSeconds)), p90 \(Self.minutes(f.p90AckSeconds)), \(f.breaches) breaches, reports claimed on time \(f.reportsClaimedOnTime)/\(f.reportsClaimed), minutes \(f.minutesHeld ? "yes" : "no"), demands \(f.demandsCollected) collected/\(f.demandsResolved) resolved/\(f.demandsOverdue) overdue — \(f.grade.name(.en))"
                ))
        }
        let below = units.filter { $0.unitID != scopeUnitID }
        if !below.isEmpty {
            let count = below.reduce(into: [Grade: Int]()) { $0[$1.grade, default: 0] += 1 }
            lines.append(language.pick("下级 \(below.count) 个单位：", "\(below.count) units below: ") + Grade.allCases.map { "\($0.name(language)) \(count[$0] ?? 0)" }.joined(separator: " "))
            let reds = below.filter { $0.grade == .red }.sorted(by: Assessment.ranksBefore).reversed().prefix(5).map(\.name)
            if !reds.isEmpty { lines.append(language.pick("红色预警：", "Red: ") + reds.joined(separator: "、")) }
            for tier in tiers {
                guard let candidates = unitCandidates[tier], !candidates.isEmpty, tier != unit(scopeUnitID)?.tier else { continue }
                lines.append(language.pick("示范网格团组织候选（\(TaskTexts.tierName(tier, .zh))）：", "示范网格团组织 candidates (\(tier)): ") + candidates.map(name).joined(separator: "、"))
            }
        }
        if !cadreCandidates.isEmpty {
            lines.append(language.pick("最美网格团干部候选：", "最美网格团干部 candidates: ") + cadreCandidates.compactMap { id in cadres.first { $0.memberID == id }?.name }.joined(separator: "、"))
        }
        lines.append(gradeRule(language))
        if let link { lines.append(language.pick("完整报表：\(link)", "Full report: \(link)")) }
        return lines.joined(separator: "\n")
    }
}
