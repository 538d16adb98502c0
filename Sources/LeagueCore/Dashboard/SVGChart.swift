import Foundation

/// Small charts drawn by the server as inline SVG: no script, no external asset, readable on a phone.
public enum SVGChart {
    static func n(_ value: Double) -> String { String(format: "%.1f", value) }

    /// The colour of a grade (and of a share against the bands).
    public static func colour(_ grade: Grade?) -> String {
        switch grade {
        case .green: return "#2e9d4f"
        case .yellow: return "#e0a800"
        case .red: return "#d9363e"
        case nil: return "#9aa0a6"
        }
    }

    /// The grade band a share falls in.
    static func band(_ share: Double, green: Double, yellow: Double) -> Grade {
        share >= green ? .green : share >= yellow ? .yellow : .red
    }

    /// Horizontal bars of shares (0…1) with the red/yellow/green bands behind them.
    /// - Parameters:
    ///   - bars: label, share (nil: nothing to measure) and the bar's colour.
    ///   - bands: the yellow and green thresholds, drawn as background bands; nil draws none.
    public static func shareBars(_ bars: [(label: String, share: Double?, grade: Grade?)], bands: (yellow: Double, green: Double)?, title: String) -> String {
        let labelWidth = 120.0, width = 360.0, rowHeight = 22.0
        let plot = width - labelWidth - 44
        let height = Double(max(bars.count, 1)) * rowHeight + 20
        var out = "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>\(HTML.escape(title))</title>"
        if let bands {
            let y0 = 0.0, h = height - 16
            out += "<rect x=\"\(n(labelWidth))\" y=\"\(n(y0))\" width=\"\(n(plot * bands.yellow))\" height=\"\(n(h))\" fill=\"#fbe3e4\"/>"
            out += "<rect x=\"\(n(labelWidth + plot * bands.yellow))\" y=\"\(n(y0))\" width=\"\(n(plot * (bands.green - bands.yellow)))\" height=\"\(n(h))\" fill=\"#fdf3d0\"/>"
            out += "<rect x=\"\(n(labelWidth + plot * bands.green))\" y=\"\(n(y0))\" width=\"\(n(plot * (1 - bands.green)))\" height=\"\(n(h))\" fill=\"#e1f3e6\"/>"
        }
        for (i, bar) in bars.enumerated() {
            let y = Double(i) * rowHeight + 4
            let label = bar.label.count > 9 ? String(bar.label.prefix(8)) + "…" : bar.label
            out += "<text x=\"\(n(labelWidth - 6))\" y=\"\(n(y + 13))\" text-anchor=\"end\" font-size=\"12\">\(HTML.escape(label))</text>"
            if let share = bar.share {
                let w = max(plot * min(max(share, 0), 1), 1)
                out += "<rect x=\"\(n(labelWidth))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"16\" rx=\"2\" fill=\"\(colour(bar.grade))\"/>"
                out += "<text x=\"\(n(labelWidth + w + 4))\" y=\"\(n(y + 13))\" font-size=\"11\">\(Int((share * 100).rounded()))%</text>"
            } else {
                out += "<text x=\"\(n(labelWidth + 4))\" y=\"\(n(y + 13))\" font-size=\"11\" fill=\"#777\">—</text>"
            }
        }
        let axisY = height - 14
        for tick in [0.0, 0.5, 1.0] {
            out += "<text x=\"\(n(labelWidth + plot * tick))\" y=\"\(n(axisY + 11))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">\(Int(tick * 100))%</text>"
        }
        return out + "</svg>"
    }

    /// A six-month trend of a share as a small line with a dot per month (gaps where nothing was received).
    public static func sparkline(_ values: [Double?], green: Double, yellow: Double, title: String) -> String {
        let width = 96.0, height = 24.0
        let step = values.count > 1 ? (width - 8) / Double(values.count - 1) : 0
        var out = "<svg class=\"spark\" role=\"img\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"96\" height=\"24\" xmlns=\"http://www.w3.org/2000/svg\"><title>\(HTML.escape(title))</title>"
        out += "<line x1=\"4\" x2=\"\(n(width - 4))\" y1=\"\(n(y(green, height)))\" y2=\"\(n(y(green, height)))\" stroke=\"#b7dfc2\" stroke-dasharray=\"2 2\"/>"
        var points: [String] = []
        for (i, value) in values.enumerated() {
            guard let value else {
                if points.count > 1 { out += "<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/>" }
                points = []
                continue
            }
            points.append("\(n(4 + Double(i) * step)),\(n(y(value, height)))")
        }
        if points.count > 1 { out += "<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/>" }
        for (i, value) in values.enumerated() {
            guard let value else { continue }
            out += "<circle cx=\"\(n(4 + Double(i) * step))\" cy=\"\(n(y(value, height)))\" r=\"2.2\" fill=\"\(colour(band(value, green: green, yellow: yellow)))\"/>"
        }
        return out + "</svg>"
    }

    private static func y(_ share: Double, _ height: Double) -> Double { height - 3 - (height - 6) * min(max(share, 0), 1) }

    /// The roll call's timeline: acknowledgements so far as a rising step line against the deadline,
    /// with the escalation steps marked.
    /// - Parameters:
    ///   - acks: seconds after dispatch of each acknowledgement.
    ///   - total: number of targets shown.
    ///   - target: seconds to the deadline.
    ///   - elapsed: seconds from dispatch to now.
    ///   - steps: seconds after dispatch of each escalation step taken.
    public static func timeline(acks: [Double], total: Int, target: Double, elapsed: Double, steps: [Double], language: Language) -> String {
        let width = 360.0, height = 150.0, left = 34.0, right = 10.0, top = 10.0, bottom = 24.0
        let sorted = acks.sorted()
        let span = max(target * 1.5, elapsed, (sorted.last ?? 0) * 1.05, steps.max() ?? 0, 60)
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ seconds: Double) -> Double { left + plotW * min(max(seconds / span, 0), 1) }
        func yv(_ count: Int) -> Double { top + plotH * (1 - (total == 0 ? 0 : Double(count) / Double(total))) }
        let title = language.pick("确认进度时间线", "Acknowledgements over time")
        var out = "<svg id=\"timeline\" class=\"chart\" role=\"img\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>\(title)</title>"
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\" fill=\"#fafafa\" stroke=\"#ddd\"/>"
        out += "<line x1=\"\(n(x(target)))\" x2=\"\(n(x(target)))\" y1=\"\(n(top))\" y2=\"\(n(top + plotH))\" stroke=\"#d9363e\" stroke-dasharray=\"4 3\"/>"
        out += "<text x=\"\(n(x(target) + 3))\" y=\"\(n(top + 11))\" font-size=\"10\" fill=\"#d9363e\">\(language.pick("时限", "deadline"))</text>"
        for offset in steps {
            out += "<path d=\"M\(n(x(offset))) \(n(top + plotH)) l-4 7 h8 z\" fill=\"#e0a800\"><title>\(language.pick("升级", "escalation"))</title></path>"
        }
        var path = "M\(n(x(0))) \(n(yv(0)))"
        for (i, seconds) in sorted.enumerated() {
            path += " H\(n(x(seconds))) V\(n(yv(i + 1)))"
        }
        path += " H\(n(x(elapsed)))"
        out += "<path d=\"\(path)\" fill=\"none\" stroke=\"#2e9d4f\" stroke-width=\"2\"/>"
        out += "<line x1=\"\(n(x(elapsed)))\" x2=\"\(n(x(elapsed)))\" y1=\"\(n(top))\" y2=\"\(n(top + plotH))\" stroke=\"#888\" stroke-width=\"0.8\"/>"
        out += "<text x=\"\(n(left - 4))\" y=\"\(n(top + 8))\" text-anchor=\"end\" font-size=\"10\">\(total)</text>"
        out += "<text x=\"\(n(left - 4))\" y=\"\(n(top + plotH))\" text-anchor=\"end\" font-size=\"10\">0</text>"
        out += "<text x=\"\(n(left))\" y=\"\(n(height - 8))\" font-size=\"10\">0</text>"
        out += "<text x=\"\(n(left + plotW))\" y=\"\(n(height - 8))\" text-anchor=\"end\" font-size=\"10\">\(HTML.escape(DurationText.human(span, language: language)))</text>"
        out +=
            "<text x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 8))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">\(language.pick("已确认 \(sorted.count)/\(total)", "\(sorted.count)/\(total) acknowledged"))</text>"
        return out + "</svg>"
    }

    /// Vertical bars of counts (demands by state).
    public static func countBars(_ bars: [(label: String, count: Int, colour: String)], title: String) -> String {
        let width = 360.0, height = 130.0, bottom = 22.0, top = 14.0
        let maxCount = max(bars.map(\.count).max() ?? 0, 1)
        let slot = width / Double(max(bars.count, 1))
        var out = "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>\(HTML.escape(title))</title>"
        for (i, bar) in bars.enumerated() {
            let h = (height - bottom - top) * Double(bar.count) / Double(maxCount)
            let x = Double(i) * slot + slot * 0.2
            out += "<rect x=\"\(n(x))\" y=\"\(n(height - bottom - h))\" width=\"\(n(slot * 0.6))\" height=\"\(n(max(h, 0.5)))\" fill=\"\(bar.colour)\"/>"
            out += "<text x=\"\(n(x + slot * 0.3))\" y=\"\(n(height - bottom - h - 3))\" text-anchor=\"middle\" font-size=\"11\">\(bar.count)</text>"
            out += "<text x=\"\(n(x + slot * 0.3))\" y=\"\(n(height - 6))\" text-anchor=\"middle\" font-size=\"11\">\(HTML.escape(bar.label))</text>"
        }
        return out + "</svg>"
    }
}

/// HTML escaping for every text that came from a person (task texts, unit names, categories).
public enum HTML {
    /// Escapes `& < > " '`.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
