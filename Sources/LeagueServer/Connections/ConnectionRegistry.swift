import Foundation
import LeagueCore
import NIOConcurrencyHelpers

/// The state of every platform connection, for /healthz. Each supervisor applies its events here, so
/// a reader always sees one consistent `ConnectionMachine` per connection.
public final class ConnectionRegistry: Sendable {
    private let machines = NIOLockedValueBox<[String: ConnectionMachine]>([:])
    private let clock: any WallClock

    public init(clock: any WallClock) {
        self.clock = clock
    }

    /// Adds a connection (idle) under its name.
    public func register(_ name: String, policy: ConnectionPolicy) {
        machines.withLockedValue { $0[name] = $0[name] ?? ConnectionMachine(policy: policy) }
    }

    /// Applies an event to a connection's machine.
    /// - Returns: the actions the supervisor performs.
    @discardableResult
    public func apply(_ name: String, _ event: ConnectionMachine.Event) -> [ConnectionMachine.Action] {
        machines.withLockedValue { all in
            guard var machine = all[name] else { return [] }
            let actions = machine.handle(event)
            all[name] = machine
            return actions
        }
    }

    /// One connection's machine (tests, logs).
    public func machine(_ name: String) -> ConnectionMachine? {
        machines.withLockedValue { $0[name] }
    }

    /// What /healthz shows.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var state: String
        public var lastFrameAgeSeconds: Double?
        public var reconnectsLastHour: Int
        /// Every reconnect since start-up (the metrics' counter).
        public var reconnectsTotal: Int = 0
        public var lastError: String?
        public var downSeconds: Double?
        public var degraded: Bool
    }

    /// Every connection, by name.
    public func report() -> [Entry] {
        let now = clock.now()
        return machines.withLockedValue { all in
            all.keys.sorted().map { name in
                let machine = all[name]!
                return Entry(
                    name: name, state: machine.state.name,
                    lastFrameAgeSeconds: machine.lastFrameAt.map { max(0, now.timeIntervalSince($0)) },
                    reconnectsLastHour: machine.reconnectsInLastHour(at: now), reconnectsTotal: machine.reconnectsTotal, lastError: machine.lastError,
                    downSeconds: machine.downSince.map { max(0, now.timeIntervalSince($0)) },
                    degraded: machine.isDegraded(at: now)
                )
            }
        }
    }

    /// The `"connections":[…]` JSON member of /healthz (empty list when no connection is configured).
    public static func json(_ entries: [Entry]) -> String {
        let items = entries.map { entry -> String in
            var fields: [(String, OutJSON)] = [
                ("name", .string(entry.name)), ("state", .string(entry.state)),
                ("reconnects_last_hour", .int(Int64(entry.reconnectsLastHour))), ("degraded", .bool(entry.degraded)),
            ]
            if let age = entry.lastFrameAgeSeconds { fields.append(("last_frame_age_seconds", .int(Int64(age.rounded(.down))))) }
            if let down = entry.downSeconds { fields.append(("down_seconds", .int(Int64(down.rounded(.down))))) }
            if let error = entry.lastError { fields.append(("last_error", .string(error))) }
            return OutJSON.object(fields).text
        }
        return "[" + items.joined(separator: ",") + "]"
    }
}
