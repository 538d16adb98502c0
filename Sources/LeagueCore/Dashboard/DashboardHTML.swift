import Foundation

/// Renders the dashboard's pages to HTML: pure functions of the page values. Every text a person
/// wrote (task texts, names, categories) goes through `HTML.escape`; the pages load nothing from
/// elsewhere (the bot often has no internet access) and run no script except the roll call's few
/// lines of `EventSource` that apply live updates.
public enum DashboardHTML {
    static let style = """
        body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;padding:0 10px 24px;color:#222;background:#fff;font-size:15px;line-height:1.45}
        header{border-bottom:1px solid #ddd;padding:8px 0;margin-bottom:8px}h1{font-size:19px;margin:4px 0}h2{font-size:16px;margin:16px 0 6px}
        nav a{margin-right:12px;white-space:nowrap}.crumbs{font-size:13px;color:#555}.crumbs a{color:#555}
        a{color:#0b57d0;text-decoration:none}table{border-collapse:collapse;width:100%;font-size:14px}
        th,td{text-align:left;padding:5px 6px;border-bottom:1px solid #eee;vertical-align:top}th{background:#f5f5f5;font-weight:600}
        .wrap{overflow-x:auto}.num{text-align:right;white-space:nowrap}.muted{color:#777;font-size:13px}
        .dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:middle}
        .green{background:#2e9d4f}.yellow{background:#e0a800}.red{background:#d9363e}.none{background:#9aa0a6}
        tr.on-time td.s{color:#2e9d4f}tr.late td.s{color:#b07d00}tr.missing td.s{color:#d9363e;font-weight:600}tr.waiting td.s{color:#555}
        tr.overdue td{background:#fdecec}.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;color:#fff;background:#d9363e}
        .summary span{display:inline-block;margin-right:12px}.chart{max-width:560px;display:block;margin:6px 0}
        footer{margin-top:20px;font-size:12px;color:#777}
        """

    /// The page around a content: head, title, where you are, the other pages, expiry.
    public static func page(_ frame: DashboardFrame, body: String, script: String = "") -> String {
        let l = frame.language
        var out = "<!DOCTYPE html><html lang=\"\(l.rawValue)\"><head><meta charset=\"utf-8\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">"
        out += "<title>\(HTML.escape(frame.title))</title><style>\(style)</style></head><body><header>"
        if !frame.crumbs.isEmpty {
            out += "<div class=\"crumbs\">" + frame.crumbs.map { link($0) }.joined(separator: " › ") + "</div>"
        }
        out += "<h1>\(HTML.escape(frame.title))</h1><nav>" + frame.nav.map { link($0) }.joined() + "</nav></header><main>"
        out += body
        out +=
            "</main><footer>"
            + l.pick(
                "生成于 \(HTML.escape(frame.generated))；本链接仅限\(HTML.escape(frame.scopeName))及下级，\(HTML.escape(frame.expires)) 前有效。",
                "Made \(HTML.escape(frame.generated)); this link shows \(HTML.escape(frame.scopeName)) and the units below only, until \(HTML.escape(frame.expires)).")
        out += "</footer>"
        if !script.isEmpty { out += "<script>\(script)</script>" }
        return out + "</body></html>"
    }

    static func link(_ link: DashboardLink) -> String { "<a href=\"\(HTML.escape(link.href))\">\(HTML.escape(link.title))</a>" }

    static func percent(_ share: Double?) -> String { share.map { "\(Int(($0 * 100).rounded()))%" } ?? "—" }

    static func duration(_ seconds: Double?, _ language: Language) -> String {
        seconds.map { HTML.escape(DurationText.human($0, language: language)) } ?? "—"
    }

    static func gradeDot(_ grade: Grade?, _ language: Language) -> String {
        // The page draws its own coloured dot: the chat's emoji (🟢 …) would show twice, or as a box
        // where the in-app browser has no emoji font.
        let name: String
        switch grade {
        case .green: name = language.pick("绿", "green")
        case .yellow: name = language.pick("黄", "yellow")
        case .red: name = language.pick("红", "red")
        case nil: name = "—"
        }
        return "<span class=\"dot \(grade?.rawValue ?? "none")\"></span>\(name)"
    }

    // MARK: Overview

    /// A unit's overview: each child with open tasks, acknowledgement rate and median time this
    /// month, overdue targets now and its assessment colour; the unit's open tasks.
    public static func overview(_ p: OverviewPage, frame: DashboardFrame) -> String {
        let l = frame.language
        var body = "<p class=\"summary\"><span>\(l.pick("本月", "Month")) \(HTML.escape(p.month))</span>"
        body += "<span>\(l.pick("进行中任务", "open tasks")) <b>\(p.own.openTasks)</b></span>"
        body += "<span>\(l.pick("确认率", "acknowledged")) <b>\(percent(p.own.ackRate))</b></span>"
        body += "<span>\(l.pick("确认用时中位数", "median time to ack")) <b>\(duration(p.own.medianAckSeconds, l))</b></span>"
        body += "<span>\(l.pick("当前超时未确认", "overdue now")) <b>\(p.own.overdueNow)</b></span>"
        body += "<span>\(l.pick("本单位考核", "own grade")) \(gradeDot(p.own.grade, l))</span></p>"
        if p.children.isEmpty {
            body += "<p class=\"muted\">\(l.pick("没有下级单位。", "No units below."))</p>"
        } else {
            body += "<h2>\(l.pick("下级单位", "Units below")) (\(p.children.count))</h2>"
            body += SVGChart.shareBars(
                p.children.prefix(40).map { ($0.name, $0.ackRate, $0.grade) }, bands: nil,
                title: l.pick("本月确认率", "Acknowledged this month"))
            if p.children.count > 40 {
                body += "<p class=\"muted\">\(l.pick("图中显示前 40 个，下表列出全部。", "The chart shows the first 40; the table lists all."))</p>"
            }
            body += "<div class=\"wrap\"><table><thead><tr><th>\(l.pick("单位", "Unit"))</th><th class=\"num\">\(l.pick("进行中", "Open"))</th>"
            body += "<th class=\"num\">\(l.pick("确认率", "Ack rate"))</th><th class=\"num\">\(l.pick("用时中位", "Median"))</th>"
            body += "<th class=\"num\">\(l.pick("超时", "Overdue"))</th><th>\(l.pick("考核", "Grade"))</th></tr></thead><tbody>"
            for row in p.children {
                let name = row.href.map { "<a href=\"\(HTML.escape($0))\">\(HTML.escape(row.name))</a>" } ?? HTML.escape(row.name)
                body += "<tr\(row.overdueNow > 0 ? " class=\"overdue\"" : "")><td>\(name)</td><td class=\"num\">\(row.openTasks)</td>"
                body += "<td class=\"num\">\(percent(row.ackRate))<span class=\"muted\"> \(row.acknowledged)/\(row.assigned)</span></td>"
                body += "<td class=\"num\">\(duration(row.medianAckSeconds, l))</td><td class=\"num\">\(row.overdueNow)</td><td>\(gradeDot(row.grade, l))</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        body += "<h2>\(l.pick("进行中的任务", "Open tasks"))</h2>"
        if p.openTasks.isEmpty {
            body += "<p class=\"muted\">\(l.pick("没有进行中的任务。", "No open tasks."))</p>"
        } else {
            body += "<div class=\"wrap\"><table><tbody>"
            for task in p.openTasks {
                body += "<tr\(task.overdue > 0 ? " class=\"overdue\"" : "")><td><a href=\"\(HTML.escape(task.href))\">\(HTML.escape(task.label))</a>"
                body += task.urgent ? " <span class=\"badge\">\(l.pick("紧急", "urgent"))</span>" : ""
                body +=
                    "</td><td>\(HTML.escape(TaskTexts.excerpt(task.text.replacingOccurrences(of: "\n", with: " "), 40)))</td><td class=\"num\">\(l.pick("待确认 \(task.waiting)/\(task.total)", "\(task.waiting)/\(task.total) waiting"))"
                body += task.overdue > 0 ? l.pick("，超时 \(task.overdue)", ", \(task.overdue) overdue") : ""
                body += "</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        return page(frame, body: body)
    }

    // MARK: Roll call

    /// The summary line of a roll call (also sent with each live update).
    public static func rollCallSummary(_ p: RollCallPage, _ l: Language) -> String {
        let c = p.counts
        return RollCallState.allCases.map { "<span class=\"\($0.rawValue)\">\($0.name(l)) <b>\(c[$0] ?? 0)</b></span>" }.joined()
    }

    /// The cells of a roll-call row that change as acknowledgements arrive.
    public static func rollCallCells(_ row: RollCallRow, _ l: Language) -> (state: String, time: String, by: String) {
        (row.state.name(l), row.ackSeconds.map { DurationText.human($0, language: l) } ?? "—", row.ackBy ?? "")
    }

    /// The timeline chart of a roll call.
    public static func rollCallChart(_ p: RollCallPage, _ l: Language) -> String {
        SVGChart.timeline(
            acks: p.rows.compactMap(\.ackSeconds), total: p.rows.count, target: p.targetSeconds, elapsed: p.elapsed,
            steps: p.steps.map(\.offset), language: l)
    }

    /// A task's roll call: every target group in the link's part of the tree with its state, time to
    /// acknowledge and escalation steps, a timeline chart, and live updates while the task is open.
    public static func rollCall(_ p: RollCallPage, frame: DashboardFrame) -> String {
        let l = frame.language
        var body = "<p>\(p.urgent ? "<span class=\"badge\">\(l.pick("紧急", "urgent"))</span> " : "")<b>\(HTML.escape(p.label))</b> \(HTML.escape(p.text))</p>"
        body += "<p class=\"muted\">\(l.pick("发起", "From")) \(HTML.escape(p.issuer)) · \(HTML.escape(p.created)) · \(l.pick("时限", "due")) \(HTML.escape(p.deadline))"
        if p.status != .open { body += " · " + p.status.name(l) }
        body += "</p><p id=\"summary\" class=\"summary\">\(rollCallSummary(p, l))</p>"
        body += "<div id=\"chart\">\(rollCallChart(p, l))</div>"
        if p.eventsHref != nil {
            body += "<p id=\"live\" class=\"muted\">\(l.pick("实时更新中", "Live"))</p>"
        }
        if p.rows.isEmpty {
            body += "<p class=\"muted\">\(l.pick("本范围内没有目标群。", "No target groups in this part of the tree."))</p>"
        } else {
            body += "<div class=\"wrap\"><table><thead><tr><th>\(l.pick(p.isReport ? "上报至" : "目标群", p.isReport ? "Sent to" : "Group"))</th>"
            body += "<th>\(l.pick("状态", "State"))</th><th class=\"num\">\(l.pick("用时", "Time"))</th><th>\(l.pick("确认人", "By"))</th><th>\(l.pick("升级", "Steps"))</th></tr></thead><tbody>"
            for (i, row) in p.rows.enumerated() {
                let cells = rollCallCells(row, l)
                body += "<tr id=\"r\(i)\" class=\"\(row.state.rawValue)\"><td>\(HTML.escape(row.name))</td><td class=\"s\">\(cells.state)</td>"
                body += "<td class=\"num t\">\(HTML.escape(cells.time))</td><td class=\"b\">\(HTML.escape(cells.by))</td>"
                body += "<td>\(row.steps.map(String.init).joined(separator: ", "))</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        if p.hiddenTargets > 0 {
            body += "<p class=\"muted\">\(l.pick("另有 \(p.hiddenTargets) 个目标群不在本链接范围内。", "\(p.hiddenTargets) more target group(s) lie outside this link's part of the tree."))</p>"
        }
        body += "<h2>\(l.pick("提醒与升级", "Reminders and escalations"))</h2>"
        if p.steps.isEmpty {
            body += "<p class=\"muted\">\(l.pick("尚无。", "None yet."))</p>"
        } else {
            body += "<ul>"
            for step in p.steps {
                let what = step.step == 0 ? l.pick("提醒未确认的群", "reminded the late groups") : l.pick("第 \(step.step) 级上报", "escalation step \(step.step)")
                body += "<li>\(HTML.escape(step.at)) \(what)（\(l.pick("超时 \(step.late) 个，通知", "\(step.late) late, told"))：\(HTML.escape(step.told.joined(separator: "、")))）</li>"
            }
            body += "</ul>"
        }
        let script =
            p.eventsHref.map { href in
                """
                (function(){if(!window.EventSource)return;var s=new EventSource("\(jsString(href))");
                s.addEventListener("rollcall",function(e){var d=JSON.parse(e.data);
                d.rows.forEach(function(r){var t=document.getElementById("r"+r.i);if(!t)return;t.className=r.c;
                t.querySelector(".s").textContent=r.s;t.querySelector(".t").textContent=r.t;t.querySelector(".b").textContent=r.b;});
                document.getElementById("summary").innerHTML=d.summary;document.getElementById("chart").innerHTML=d.chart;});
                s.addEventListener("end",function(){s.close();var l=document.getElementById("live");if(l)l.textContent="";});})();
                """
            } ?? ""
        return page(frame, body: body, script: script)
    }

    /// A string literal for the inline script (the href is ours, but escape anyway).
    static func jsString(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// One live update of a roll call: the rows that changed (by index), the summary and the chart.
    /// - Returns: the JSON of the `rollcall` event.
    public static func rollCallUpdate(_ p: RollCallPage, changed: [Int], language l: Language) -> String {
        let rows: [OutJSON] = changed.compactMap { i in
            guard p.rows.indices.contains(i) else { return nil }
            let cells = rollCallCells(p.rows[i], l)
            return .object([
                ("i", .int(Int64(i))), ("c", .string(p.rows[i].state.rawValue)), ("s", .string(cells.state)),
                ("t", .string(cells.time)), ("b", .string(cells.by)),
            ])
        }
        return OutJSON.object([("rows", .array(rows)), ("summary", .string(rollCallSummary(p, l))), ("chart", .string(rollCallChart(p, l)))]).text
    }

    // MARK: Assessment

    /// The month's assessment of the unit and its children: bars with the bands, a six-month trend
    /// per unit, the figures, and the CSV download of the whole subtree.
    public static func assessment(_ p: AssessmentPage, frame: DashboardFrame) -> String {
        let l = frame.language
        var body = "<p>"
        if let previous = p.previous { body += link(previous) + " · " }
        body += "<b>\(HTML.escape(p.month))</b>"
        if let next = p.next { body += " · " + link(next) }
        body += " · <a href=\"\(HTML.escape(p.csvHref))\" download>\(l.pick("下载 CSV", "Download CSV"))</a></p>"
        if p.units.isEmpty {
            return page(frame, body: body + "<p class=\"muted\">\(l.pick("没有数据。", "No figures."))</p>")
        }
        let y = percent(p.yellow), g = percent(p.green)
        let legend = l.pick("按时确认率；背景：红 &lt;\(y)，黄 &lt;\(g)，绿 ≥\(g)", "On-time share; bands: red &lt;\(y), yellow &lt;\(g), green ≥\(g)")
        body += "<p class=\"muted\">\(legend)</p>"
        body += SVGChart.shareBars(
            p.units.prefix(40).map { ($0.name, $0.onTimeShare, $0.grade) }, bands: (p.yellow, p.green),
            title: l.pick("按时确认率", "On-time share"))
        body += "<div class=\"wrap\"><table><thead><tr><th>\(l.pick("单位", "Unit"))</th><th>\(l.pick("考核", "Grade"))</th>"
        body += "<th class=\"num\">\(l.pick("按时率", "On time"))</th><th class=\"num\">\(l.pick("收到/确认", "Recv/ack"))</th>"
        body += "<th class=\"num\">\(l.pick("用时中位", "Median"))</th><th class=\"num\">\(l.pick("超时上报", "Breaches"))</th>"
        body += "<th>\(l.pick("纪要", "Minutes"))</th><th>\(l.pick("近六月", "6 months")) (\(HTML.escape(p.months.first ?? ""))–)</th></tr></thead><tbody>"
        for f in p.units {
            let name = p.hrefs[f.unitID].map { "<a href=\"\(HTML.escape($0))\">\(HTML.escape(f.name))</a>" } ?? "<b>\(HTML.escape(f.name))</b>"
            let trend = p.trend[f.unitID] ?? []
            body += "<tr><td>\(name)</td><td>\(gradeDot(f.grade, l))</td><td class=\"num\">\(percent(f.onTimeShare))</td>"
            body += "<td class=\"num\">\(f.tasksReceived)/\(f.acknowledged)</td><td class=\"num\">\(duration(f.medianAckSeconds, l))</td>"
            body += "<td class=\"num\">\(f.breaches)</td><td>\(f.minutesHeld ? "✓" : "—")</td>"
            body += "<td>\(SVGChart.sparkline(trend, green: p.green, yellow: p.yellow, title: trend.map { percent($0) }.joined(separator: " ")))</td></tr>"
        }
        body += "</tbody></table></div>"
        return page(frame, body: body)
    }

    // MARK: Deliberation

    /// Which units below have minutes of their 9th-day meeting this month, with links.
    public static func deliberation(_ p: DeliberationPage, frame: DashboardFrame) -> String {
        let l = frame.language
        var body = "<p>"
        if let previous = p.previous { body += link(previous) + " · " }
        body += "<b>\(HTML.escape(p.month))</b> · "
        body += l.pick("\(p.own.withMinutes)/\(p.own.owing) 个议事单位已有纪要", "\(p.own.withMinutes) of \(p.own.owing) deliberating unit(s) have minutes")
        if let href = p.own.minutesHref { body += " · <a href=\"\(HTML.escape(href))\">\(l.pick("全部纪要", "All minutes"))</a>" }
        body += "</p>"
        if p.rows.isEmpty {
            return page(frame, body: body + "<p class=\"muted\">\(l.pick("没有下级单位。", "No units below."))</p>")
        }
        body += SVGChart.shareBars(
            p.rows.prefix(40).map { row in
                let share = row.owing == 0 ? nil : Double(row.withMinutes) / Double(row.owing)
                return (row.name, share, share.map { $0 >= 1 ? Grade.green : $0 > 0 ? .yellow : .red })
            }, bands: nil, title: l.pick("已有纪要的议事单位比例", "Share of deliberating units with minutes"))
        body +=
            "<div class=\"wrap\"><table><thead><tr><th>\(l.pick("单位", "Unit"))</th><th class=\"num\">\(l.pick("有纪要单位", "Units with minutes"))</th><th>\(l.pick("纪要", "Minutes"))</th></tr></thead><tbody>"
        for row in p.rows {
            let name = row.href.map { "<a href=\"\(HTML.escape($0))\">\(HTML.escape(row.name))</a>" } ?? HTML.escape(row.name)
            let missing = row.withMinutes < row.owing
            body += "<tr\(row.withMinutes == 0 ? " class=\"overdue\"" : "")><td>\(name)</td><td class=\"num\">\(row.withMinutes)/\(row.owing)\(missing ? "" : " ✓")</td>"
            body += "<td>\(row.minutesHref.map { "<a href=\"\(HTML.escape($0))\">\(l.pick("查看", "open"))</a>" } ?? "—")</td></tr>"
        }
        body += "</tbody></table></div>"
        return page(frame, body: body)
    }

    // MARK: Demands

    /// Demands of the subtree: counts by state and category, the oldest open ones (number, category,
    /// state, age, holder; never a text, a name or a contact), overdue ones highlighted.
    public static func demands(_ p: DemandsPage, frame: DashboardFrame) -> String {
        let l = frame.language
        var body = "<p class=\"summary\"><span>\(l.pick("共", "Total")) <b>\(p.total)</b></span>"
        body += "<span>\(l.pick("超时未办结", "overdue")) <b>\(p.overdue)</b></span></p>"
        if p.total == 0 {
            return page(frame, body: body + "<p class=\"muted\">\(l.pick("暂无诉求。", "No demands."))</p>")
        }
        let colours: [DemandState: String] = [
            .collected: "#9aa0a6", .published: "#e0a800", .claimed: "#0b57d0", .inProgress: "#5b7fd6",
            .resolved: "#2e9d4f", .closed: "#555",
        ]
        body += SVGChart.countBars(DemandState.allCases.map { ($0.name(l), p.byState[$0] ?? 0, colours[$0] ?? "#888") }, title: l.pick("按状态", "By state"))
        body += "<h2>\(l.pick("按类别", "By category"))</h2><div class=\"wrap\"><table><tbody>"
        for (category, count) in p.byCategory {
            body += "<tr><td>\(HTML.escape(category))</td><td class=\"num\">\(count)</td></tr>"
        }
        body += "</tbody></table></div><h2>\(l.pick("最早未办结", "Oldest open"))</h2>"
        if p.oldestOpen.isEmpty {
            body += "<p class=\"muted\">\(l.pick("没有未办结的诉求。", "None open."))</p>"
        } else {
            body += "<div class=\"wrap\"><table><thead><tr><th>\(l.pick("编号", "No."))</th><th>\(l.pick("类别", "Category"))</th><th>\(l.pick("状态", "State"))</th>"
            body += "<th class=\"num\">\(l.pick("已等待", "Age"))</th><th>\(l.pick("办理单位", "Held by"))</th></tr></thead><tbody>"
            for row in p.oldestOpen {
                body += "<tr\(row.overdue ? " class=\"overdue\"" : "")><td>\(HTML.escape(row.label))\(row.overdue ? " <span class=\"badge\">\(l.pick("超时", "overdue"))</span>" : "")</td>"
                body += "<td>\(HTML.escape(row.category ?? "—"))</td><td>\(HTML.escape(row.state.name(l)))</td><td class=\"num\">\(HTML.escape(row.age))</td><td>\(HTML.escape(row.holder))</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        body += "<p class=\"muted\">\(l.pick("为保护未成年人，本页不显示诉求内容、姓名和联系方式。", "To protect minors this page shows no demand texts, names or contacts."))</p>"
        return page(frame, body: body)
    }

    // MARK: Refusals

    /// The page of an expired, altered or out-of-scope link: what happened and how to get a new one.
    public static func refused(reason: DashboardRefusal, language l: Language) -> String {
        let text: String
        switch reason {
        case .expired: text = l.pick("此看板链接已过期。", "This dashboard link has expired.")
        case .invalid: text = l.pick("此看板链接无效（签名不符或已被改动）。", "This dashboard link is not valid (its signature does not match; it may have been altered).")
        case .role: text = l.pick("您没有查看考核的权限（见 leagueops.yaml 的 permissions.assessment）。", "You may not read the assessment (see permissions.assessment in leagueops.yaml).")
        case .outOfScope: text = l.pick("此链接不能查看该单位：链接只包含发送 /看板 的群所属单位及其下级。", "This link cannot open that unit: it covers the unit of the group where /dashboard was sent, and the units below it.")
        }
        let how = l.pick(
            "请在本单位工作群里发送 /看板 获取新的链接（链接为个人专用，请勿转发）。",
            "Send /dashboard in your unit's group to get a new link (links are personal; please do not forward them).")
        return "<!DOCTYPE html><html lang=\"\(l.rawValue)\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>403</title><style>\(style)</style></head><body><main><h1>\(text)</h1><p>\(how)</p></main></body></html>"
    }
}

/// Why a dashboard link was refused.
public enum DashboardRefusal: String, Sendable, Hashable {
    case expired, invalid, outOfScope
    /// The page needs a role the link's member does not have (the assessment: `permissions.assessment`).
    case role
}
