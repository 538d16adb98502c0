import Foundation

/// Renders minutes as Markdown or as a standalone HTML page.
public struct MinutesRenderer: Sendable {
    public var language: Language
    public var format: TimeFormat

    public init(language: Language, timeZone: TimeZone) {
        self.language = language
        self.format = TimeFormat(timeZone: timeZone)
    }

    private func pick(_ zh: String, _ en: String) -> String { language.pick(zh, en) }

    private func header(_ meeting: Meeting) -> String {
        let closed = meeting.closedAt.map { format.clock($0) } ?? pick("进行中", "open")
        let auto = meeting.autoClosed ? pick("（超时自动结束）", " (closed automatically)") : ""
        return pick(
            "时间：\(format.day(meeting.openedAt)) \(format.clock(meeting.openedAt))–\(closed)\(auto)　主持：\(meeting.openedBy.name)",
            "When: \(format.day(meeting.openedAt)) \(format.clock(meeting.openedAt))–\(closed)\(auto) · Chair: \(meeting.openedBy.name)")
    }

    private func itemLine(_ item: MeetingItem) -> String {
        switch item.kind {
        case .action:
            let task = item.taskID.map { "T-\($0) " } ?? ""
            let urgent = item.urgent ? pick("（紧急）", " (urgent)") : ""
            return "\(task)\(item.owner?.name ?? "?")：\(item.text)\(urgent)"
        case .demand:
            return "\(item.demandRef.map { "\($0) " } ?? "")\(item.text)（\(item.by.name)）"
        default:
            return item.text
        }
    }

    private var sections: [(MeetingItemKind, String)] {
        [
            (.topic, pick("议题", "Topics")), (.agreed, pick("决议", "Decisions")), (.action, pick("待办", "Actions")),
            (.demand, pick("收集的诉求", "Demands collected")), (.note, pick("记录", "Notes")),
        ]
    }

    /// Markdown of several meetings under one title.
    public func markdown(_ meetings: [Meeting], title: String) -> String {
        var out = "# \(Self.markdownEscape(title))\n\n"
        if meetings.isEmpty { out += pick("（没有纪要）\n", "(no minutes)\n") }
        for meeting in meetings {
            out += "## \(Self.markdownEscape(meeting.unitName)) · \(Self.markdownEscape(meeting.title)) (\(meeting.label))\n\n"
            out += header(meeting) + "\n\n"
            for (kind, name) in sections {
                let items = meeting.items(kind)
                guard !items.isEmpty else { continue }
                out += "### \(name)\n\n"
                for item in items { out += "- \(Self.markdownEscape(itemLine(item)))\n" }
                out += "\n"
            }
            if !meeting.transcript.isEmpty {
                out += "### \(pick("发言记录", "Transcript"))\n\n"
                for line in meeting.transcript {
                    out += "- `\(format.clock(line.at))` **\(Self.markdownEscape(line.speaker))**: \(Self.markdownEscape(line.text))\n"
                }
                out += "\n"
            }
        }
        return out
    }

    /// A readable standalone HTML page (inline style, no scripts); every text is escaped.
    public func html(_ meetings: [Meeting], title: String) -> String {
        let e = HTML.escape
        var body = "<h1>\(e(title))</h1>\n"
        if meetings.isEmpty { body += "<p class=\"empty\">\(e(pick("（没有纪要）", "(no minutes)")))</p>\n" }
        for meeting in meetings {
            body += "<section>\n<h2>\(e(meeting.unitName)) · \(e(meeting.title)) <small>\(e(meeting.label))</small></h2>\n"
            body += "<p class=\"meta\">\(e(header(meeting)))</p>\n"
            for (kind, name) in sections {
                let items = meeting.items(kind)
                guard !items.isEmpty else { continue }
                body += "<h3>\(e(name))</h3>\n<ul class=\"\(kind.rawValue)\">\n"
                for item in items { body += "<li>\(e(itemLine(item)))</li>\n" }
                body += "</ul>\n"
            }
            if !meeting.transcript.isEmpty {
                body += "<h3>\(e(pick("发言记录", "Transcript")))</h3>\n<table class=\"transcript\">\n"
                for line in meeting.transcript {
                    body += "<tr><td class=\"t\">\(e(format.clock(line.at)))</td><td class=\"who\">\(e(line.speaker))</td><td>\(e(line.text))</td></tr>\n"
                }
                body += "</table>\n"
            }
            body += "</section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title))</title>
            <style>
            body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.6;color:#222}
            h1{font-size:1.5rem;border-bottom:2px solid #c00;padding-bottom:.3rem}
            section{margin:1.5rem 0;padding-top:.5rem;border-top:1px solid #ddd}
            .meta{color:#666}
            table.transcript{border-collapse:collapse;width:100%;font-size:.9rem}
            table.transcript td{border-bottom:1px solid #eee;padding:.2rem .4rem;vertical-align:top}
            td.t{color:#888;white-space:nowrap} td.who{font-weight:bold;white-space:nowrap}
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    /// Why a minutes link was refused.
    public enum LinkRefusal: Sendable, Hashable {
        /// Past its expiry (`deliberation.link_ttl`): HTTP 410.
        case expired
        /// No signature, a wrong one (an altered link), or issued to a member no longer in the org: HTTP 403.
        case invalid
    }

    /// The page of an expired or altered minutes link: what happened and how to get a new link.
    public static func refused(_ reason: LinkRefusal, language: Language) -> String {
        let text: String
        switch reason {
        case .expired: text = language.pick("此纪要链接已过期。", "This minutes link has expired.")
        case .invalid: text = language.pick("此纪要链接无效（签名不符或已被改动）。", "This minutes link is not valid (its signature does not match; it may have been altered).")
        }
        let how = language.pick(
            "请在本单位工作群里发送 /纪要 获取新的链接（纪要含有个人信息，请勿转发链接）。",
            "Send /minutes in your unit's group to get a new link (minutes hold personal data; please do not forward links).")
        return "<!DOCTYPE html><html lang=\"\(language.rawValue)\"><head><meta charset=\"utf-8\">"
            + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>\(reason == .expired ? 410 : 403)</title></head>"
            + "<body style=\"font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem\"><h1>\(text)</h1><p>\(how)</p></body></html>"
    }

    /// Escapes Markdown markup characters and flattens line breaks, so chat text cannot inject
    /// headings, links or HTML into the exported file.
    public static func markdownEscape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "#", "|", "!": out += "\\\(character)"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
