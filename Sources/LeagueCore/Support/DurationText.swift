import Foundation

/// Durations written in config: `90s`, `3m`, `1h`, `2d`, `1h30m`, `500ms`.
public enum DurationText {
    /// Parses a duration into seconds, or nil when it is not of the form above.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawAny = false
        func flush() -> Bool {
            guard let value = Double(number), value >= 0 else { return false }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s", "": factor = 1
            case "m", "min": factor = 60
            case "h": factor = 3600
            case "d": factor = 86400
            default: return false
            }
            total += value * factor
            number = ""
            unit = ""
            sawAny = true
            return true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        if !number.isEmpty { guard flush() else { return nil } }
        return sawAny ? total : nil
    }

    /// Renders seconds the way a person reads them: `3分钟`, `10 min`, `45秒`.
    public static func human(_ seconds: Double, language: Language) -> String {
        let whole = Int(seconds.rounded())
        let zh = language == .zh
        if whole < 60 { return zh ? "\(whole)秒" : "\(whole)s" }
        if whole < 3600 {
            let m = whole / 60, s = whole % 60
            if s == 0 { return zh ? "\(m)分钟" : "\(m) min" }
            return zh ? "\(m)分\(s)秒" : "\(m) min \(s)s"
        }
        if whole < 86400 {
            let h = whole / 3600, m = (whole % 3600) / 60
            if m == 0 { return zh ? "\(h)小时" : "\(h) h" }
            return zh ? "\(h)小时\(m)分" : "\(h) h \(m) min"
        }
        let d = whole / 86400, h = (whole % 86400) / 3600
        if h == 0 { return zh ? "\(d)天" : "\(d) d" }
        return zh ? "\(d)天\(h)小时" : "\(d) d \(h) h"
    }
}
