import Foundation
import LeagueCore
import LeagueStore

/// Writes open tasks straight into a store through LeagueStore's protocol (the same schema and
/// code paths the server reads), so 100,000 open targets take seconds instead of 100,000 webhooks.
enum Seeder {
    static let targetsPerTask = 100

    /// - Parameters:
    ///   - tasks: how many dispatch tasks from the district (ids 1…`tasks`), each to `targetsPerTask` grids.
    ///   - grids: grids in the org (`g1 … g<grids>`).
    ///   - plan: per task index, its creation time and its first escalation timer (step and due time).
    /// - Returns: each task's creation time, by index.
    static func seed(
        path: String, tasks: Int, grids: Int, targetSeconds: Double, plan: (Int) -> (createdAt: Date, step: Int, due: Date)
    ) async throws -> [Date] {
        let store = try SQLiteStore(path: path, synchronous: "normal")
        let plans = (0..<tasks).map(plan)
        try await store.write(Array(plans.enumerated()), chunksOf: 200) { tx, item in
            let (index, (createdAt, step, due)) = item
            let work = WorkTask(
                id: index + 1, kind: .dispatch, urgent: false, text: "基准任务 \(index + 1)：核对网格青年名单",
                issuerID: "m-d", issuerName: "区团委书记", issuerUnitID: "d", createdAt: createdAt, targetSeconds: targetSeconds)
            try tx.insert(work)
            try tx.insert((0..<targetsPerTask).map { TaskTarget(taskID: index + 1, unitID: "g\((index * targetsPerTask + $0) % grids + 1)") })
            try tx.schedule(.taskStep(index + 1, step: step, at: due))
        }
        return plans.map(\.createdAt)
    }
}

extension Seeder {
    /// The generated org's units in order: the district, its towns, communities and grids
    /// (`OrgGenerator.yaml`'s ids and `chat-<id>` groups on the generic platform).
    static let units = ["d"] + (1...15).map { "t\($0)" } + (1...109).map { "c\($0)" } + (1...1034).map { "g\($0)" }

    /// Writes `count` pending routine notices, dealt round-robin over every unit's group (each group
    /// its own robot), through LeagueStore's protocol in transactions of 5,000. Keys are `bench:<n>`.
    static func seedOutbox(path: String, count: Int, at now: Date) async throws {
        let store = try SQLiteStore(path: path, synchronous: "normal")
        try await store.write(Array(0..<count), chunksOf: 5_000) { tx, n in
            let unit = units[n % units.count]
            let message = OutboundMessage(
                key: "bench:\(n)", unitID: unit, group: GroupBinding(platform: "generic", chat: "chat-\(unit)"),
                text: "基准通知 \(n)：请于本周五前报送青年之家活动照片。")
            try tx.enqueue(message, at: now)
        }
    }
}

extension SQLiteStore {
    /// Writes `items` through `body`, `size` of them per transaction.
    func write<T: Sendable>(_ items: [T], chunksOf size: Int, _ body: @escaping @Sendable (any StoreTransaction, T) throws -> Void) async throws {
        for start in stride(from: 0, to: items.count, by: size) {
            let slice = items[start..<min(start + size, items.count)]
            try await write { tx in
                for item in slice { try body(tx, item) }
            }
        }
    }
}
