import Foundation

/// When a failed outbound message is tried again, and when it is given up. Pure.
///
/// A message is retried with exponential backoff (`backoff`, doubled each failure, capped at
/// `maxBackoff`) until it has been tried at least `maxAttempts` times AND is older than
/// `giveUpAfter`: a platform outage of minutes or hours delays notices but loses none. Answers the
/// platform documents as permanent (invalid key, robot removed) do not go through this policy:
/// they are dead at once.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var backoff: Double
    public var maxBackoff: Double
    public var giveUpAfter: Double

    public init(maxAttempts: Int, backoff: Double, maxBackoff: Double, giveUpAfter: Double) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.giveUpAfter = giveUpAfter
    }

    public enum Decision: Sendable, Hashable {
        case retry(at: Date)
        case giveUp
    }

    /// The wait after the `failures`-th failure in a row (1-based): backoff · 2^(failures−1), capped.
    public func delay(afterFailures failures: Int) -> Double {
        let exponent = Double(min(max(failures - 1, 0), 40))
        return min(backoff * pow(2, exponent), max(maxBackoff, backoff))
    }

    /// What to do with a message created at `createdAt` that has now failed `attempts` times.
    public func decide(attempts: Int, createdAt: Date, now: Date) -> Decision {
        if attempts >= maxAttempts && now.timeIntervalSince(createdAt) >= giveUpAfter { return .giveUp }
        return .retry(at: now.addingTimeInterval(delay(afterFailures: attempts)))
    }
}
