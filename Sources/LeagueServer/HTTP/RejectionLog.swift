import Foundation
import LeagueCore
import Logging

/// Logs why webhooks were refused without letting callers flood or forge the log (issue 11): at
/// most `perMinute` lines a minute, then one line saying how many were not logged; reasons have
/// their control characters escaped (a caller-chosen header value cannot start a new log line).
final class RejectionLog: @unchecked Sendable {
    private let lock = NSLock()
    private let perMinute: Int
    private var windowStart = Date.distantPast
    private var logged = 0
    private var suppressed = 0

    init(perMinute: Int = 30) { self.perMinute = perMinute }

    /// Logs one rejection, or counts it when over the limit.
    func log(_ logger: Logger, path: String, status: Int, reason: String, now: Date) {
        let (write, dropped): (Bool, Int) = lock.withLock {
            var dropped = 0
            if now.timeIntervalSince(windowStart) >= 60 || now < windowStart {
                dropped = suppressed
                windowStart = now
                logged = 0
                suppressed = 0
            }
            guard logged < perMinute else {
                suppressed += 1
                return (false, dropped)
            }
            logged += 1
            return (true, dropped)
        }
        if dropped > 0 {
            logger.notice("webhook rejections not logged (rate limit)", metadata: ["count": "\(dropped)"])
        }
        guard write else { return }
        logger.notice(
            "webhook refused",
            metadata: [
                "path": "\(Self.escape(path))", "status": "\(status)", "reason": "\(Self.escape(reason))",
            ])
    }

    /// Control characters (and backslashes) written as `\n`, `\u{1B}` …; at most 300 characters.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(300) {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                    || scalar.properties.generalCategory == .lineSeparator || scalar.properties.generalCategory == .paragraphSeparator
                {
                    out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The short text a refused caller gets: what kind of failure, never which check failed.
    static func publicText(status: Int) -> String {
        switch status {
        case 401, 403: return "unauthorized\n"
        case 404: return "not found\n"
        case 405: return "method not allowed\n"
        case 413: return "body too large\n"
        default: return "bad request\n"
        }
    }
}
