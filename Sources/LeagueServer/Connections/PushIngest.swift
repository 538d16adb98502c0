import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging

/// The inbound contract of every connection: a pushed message goes through the same path as a
/// webhook (`Ingestor`, one `ChatMessage` shape) and may be ACKed only once it is committed.
///
/// Persist, then acknowledge, then work: `commit` returns `.ack` after the message (and its effects)
/// are durable, or when it is a duplicate of a committed one (a redelivery), or when nothing will ever
/// be stored for it (unbound chat, an event the bot does not handle, a malformed push: redelivering it
/// cannot help). It returns `.doNotAck` when the store failed, so the platform redelivers it later.
public struct PushIngest: Sendable {
    public enum Verdict: Sendable, Equatable {
        /// Committed now.
        case stored
        /// Already committed earlier (same platform message id): ACK again, do nothing else.
        case duplicate
        /// Nothing to store; ACK so the platform stops redelivering. The reason is logged.
        case ignored(String)
        /// The store failed: do not ACK.
        case doNotAck(String)

        /// True when the push may be acknowledged.
        public var mayAck: Bool {
            if case .doNotAck = self { return false }
            return true
        }
    }

    let ingestor: Ingestor
    let engine: Engine

    /// Commits what `decode` makes of a push, within `seconds` when given (else `.doNotAck`); a push the
    /// adapter refuses is `refused`.
    func commit(platform: String, within seconds: Double? = nil, _ decode: () throws(InboundRejection) -> InboundOutcome) async -> Verdict {
        let outcome: InboundOutcome
        do throws(InboundRejection) { outcome = try decode() } catch { return refused(error, platform: platform) }
        guard let seconds else { return await commit(outcome) }
        return await Bounded.within(seconds) { await self.commit(outcome) } ?? .doNotAck("not committed within \(seconds) s")
    }

    /// Commits what an adapter decoded from a push.
    /// - Returns: whether the push may be ACKed.
    public func commit(_ outcome: InboundOutcome) async -> Verdict {
        switch outcome {
        case .respond:
            return .ignored("protocol exchange")
        case .ignore(let reason, _):
            engine.logger.debug("push ignored", metadata: ["reason": "\(reason)"])
            return .ignored(reason)
        case .message(let message, _):
            return await commit(message)
        }
    }

    /// Commits one message.
    /// - Returns: whether the push may be ACKed.
    public func commit(_ message: ChatMessage) async -> Verdict {
        let org = await engine.directory.tree(engine.store)
        guard org.unit(platform: message.platform, chat: message.chat) != nil || engine.isBindingCode(message) else {
            engine.logger.notice("push from a chat no unit is bound to", metadata: ["platform": "\(message.platform)", "chat": "\(message.chat)"])
            return .ignored("chat not bound to any unit")
        }
        do {
            switch try await ingestor.submit(message) {
            case .stored: return .stored
            case .duplicate: return .duplicate
            }
        } catch {
            engine.logger.error(
                "could not commit a pushed message; not acknowledged, the platform redelivers it",
                metadata: ["platform": "\(message.platform)", "message": "\(message.messageID)", "error": "\(error)"])
            return .doNotAck("\(error)")
        }
    }

    /// A push the adapter refused (malformed): logged, ACKed so it is not redelivered forever.
    public func refused(_ rejection: InboundRejection, platform: String) -> Verdict {
        engine.logger.notice("push refused", metadata: ["platform": "\(platform)", "status": "\(rejection.status)", "reason": "\(rejection.reason)"])
        return .ignored(rejection.reason)
    }
}
