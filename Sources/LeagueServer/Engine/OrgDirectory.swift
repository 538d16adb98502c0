import Foundation
import LeagueCore
import NIOConcurrencyHelpers

/// The one place the engine looks the org up: org.yaml with the bindings learned in chat (chats
/// bound with `/绑定`, members' ids from `/登记`) laid over it by `OrgOverlay` (org.yaml wins).
///
/// The learned part is read from the store on first use and again after every transaction that
/// changed it has committed (`invalidate()` from `afterCommit`), so a binding takes effect at once.
public final class OrgDirectory: Sendable {
    private struct State {
        var configured: OrgTree
        var learned: LearnedBindings?
        var effective: OrgTree
        var conflicts: [OrgOverlay.Conflict] = []
    }

    private let state: NIOLockedValueBox<State>

    public init(configured: OrgTree) {
        state = NIOLockedValueBox(State(configured: configured, learned: nil, effective: OrgOverlay.apply(LearnedBindings(), to: configured).tree))
    }

    /// The org as it stands, loading what was learned in chat first when needed (inside `tx`).
    public func tree(_ tx: any StoreTransaction) -> OrgTree {
        if let tree = state.withLockedValue({ $0.learned == nil ? nil : $0.effective }) { return tree }
        guard let learned = try? tx.learnedBindings() else { return state.withLockedValue { $0.effective } }
        return apply(learned)
    }

    /// The org as it stands, loading what was learned in chat from the store when needed.
    public func tree(_ store: any Store) async -> OrgTree {
        if let tree = state.withLockedValue({ $0.learned == nil ? nil : $0.effective }) { return tree }
        guard let learned = try? await store.write({ tx in try tx.learnedBindings() }) else { return state.withLockedValue { $0.effective } }
        return apply(learned)
    }

    /// The last org built (org.yaml alone until the learned bindings were first read).
    public var current: OrgTree { state.withLockedValue { $0.effective } }

    /// Learned bindings org.yaml overrides, as sentences (for `/绑定` and `org status`).
    public var conflicts: [OrgOverlay.Conflict] { state.withLockedValue { $0.conflicts } }

    /// The org.yaml part alone.
    public var configured: OrgTree { state.withLockedValue { $0.configured } }

    /// Forgets the learned part; the next lookup reads it again from the store.
    public func invalidate() {
        state.withLockedValue { $0.learned = nil }
    }

    /// Replaces the org.yaml part (a reload), keeping what was learned.
    public func replaceConfigured(_ tree: OrgTree) {
        state.withLockedValue { state in
            state.configured = tree
            if let learned = state.learned {
                (state.effective, state.conflicts) = OrgOverlay.apply(learned, to: tree)
            } else {
                state.effective = OrgOverlay.apply(LearnedBindings(), to: tree).tree
            }
        }
    }

    @discardableResult
    private func apply(_ learned: LearnedBindings) -> OrgTree {
        state.withLockedValue { state in
            (state.effective, state.conflicts) = OrgOverlay.apply(learned, to: state.configured)
            state.learned = learned
            return state.effective
        }
    }
}
