import Foundation
import LeagueCore
import LeaguePlatforms

/// What every decoder outcome must look like, whatever the input.
enum Invariants {
    /// Decodes `request` and checks the outcome.
    static func decode(_ adapter: some PlatformAdapter, _ request: InboundRequest, path: String, now: Date) -> Verdict {
        do throws(InboundRejection) {
            let outcome = try adapter.decode(request, path: path, now: now)
            return verdict(check(outcome, adapter: adapter.name), else: summary(outcome))
        } catch {
            return verdict(check(error), else: "refused \(error.status)")
        }
    }

    static func verdict(_ violation: InvariantViolation?, else summary: String) -> Verdict {
        violation.map(Verdict.violated) ?? .handled(summary)
    }

    static func summary(_ outcome: InboundOutcome) -> String {
        switch outcome {
        case .message: return "message"
        case .respond: return "answer"
        case .ignore: return "ignored"
        }
    }

    /// A refusal is a 4xx with a reason to show.
    static func check(_ rejection: InboundRejection) -> InvariantViolation? {
        guard (400..<500).contains(rejection.status) else {
            return InvariantViolation("refusal with status \(rejection.status), not 4xx: \(rejection.reason)")
        }
        guard !rejection.reason.isEmpty else { return InvariantViolation("refusal \(rejection.status) without a reason") }
        return nil
    }

    /// An accepted message has non-empty ids and a text within `InboundLimits`, the adapter's
    /// platform name and a finite time;
    /// answers and ignores carry a 2xx reply (and a reason).
    static func check(_ outcome: InboundOutcome, adapter: String) -> InvariantViolation? {
        switch outcome {
        case .message(let message, let reply):
            guard message.platform == adapter else { return InvariantViolation("message claims platform \(message.platform)") }
            for (name, value) in [("message id", message.messageID), ("chat", message.chat), ("sender", message.sender)] {
                guard !value.isEmpty else { return InvariantViolation("accepted message with an empty \(name)") }
                guard value.utf8.count <= InboundLimits.maxIDBytes else {
                    return InvariantViolation("accepted message with a \(value.utf8.count)-byte \(name) (limit \(InboundLimits.maxIDBytes))")
                }
            }
            guard message.text.utf8.count <= InboundLimits.maxTextBytes else {
                return InvariantViolation("accepted message with a \(message.text.utf8.count)-byte text (limit \(InboundLimits.maxTextBytes))")
            }
            guard message.sentAt.timeIntervalSince1970.isFinite else {
                return InvariantViolation("accepted message with a non-finite sent time \(message.sentAt.timeIntervalSince1970)")
            }
            return check(reply)
        case .respond(let response):
            return check(response)
        case .ignore(let reason, let reply):
            guard !reason.isEmpty else { return InvariantViolation("ignored without a reason") }
            return check(reply)
        }
    }

    static func check(_ reply: PlainResponse) -> InvariantViolation? {
        (200..<300).contains(reply.status) ? nil : InvariantViolation("success reply with status \(reply.status)")
    }
}
