import Foundation
import LeagueCore
import LeagueStore

/// Writes open tasks straight into a store through LeagueStore's protocol (the same schema and
/// code paths the server reads), so 100,000 open targets take seconds instead of 100,000 webhooks.
enum Seeder {
    struct SeededTask {
        var id: Int
        var createdAt: Date
        var targetSeconds: Double
        var grids: [Int]
    }

    static let targetsPerTask = 100

    /// - Parameters:
    ///   - tasks: how many dispatch tasks from the district, each to `targetsPerTask` grids.
    ///   - grids: grids in the org (`g1 … g<grids>`).
    ///   - firstTimer: per task index, its first escalation timer (step and due time) and its creation time.
    static func seed(
        path: String, tasks: Int, grids: Int, targetSeconds: Double,
        plan: @escaping @Sendable (Int) -> (createdAt: Date, step: Int, due: Date)
    ) async throws -> [SeededTask] {
        let store = try SQLiteStore(path: path, synchronous: "normal")
        var seeded: [SeededTask] = []
        seeded.reserveCapacity(tasks)
        for index in 0..<tasks {
            let (createdAt, _, _) = plan(index)
            let targets = (0..<targetsPerTask).map { ((index * targetsPerTask + $0) % grids) + 1 }
            seeded.append(SeededTask(id: index + 1, createdAt: createdAt, targetSeconds: targetSeconds, grids: targets))
        }
        try await store.write(seeded, chunksOf: 200) { tx, task in
            let work = WorkTask(
                id: task.id, kind: .dispatch, urgent: false, text: "基准任务 \(task.id)：核对网格青年名单",
                issuerID: "m-d", issuerName: "区团委书记", issuerUnitID: "d",
                createdAt: task.createdAt, targetSeconds: task.targetSeconds)
            try tx.insert(work)
            try tx.insert(task.grids.map { TaskTarget(taskID: task.id, unitID: "g\($0)") })
            let (_, step, due) = plan(task.id - 1)
            try tx.schedule(.taskStep(task.id, step: step, at: due))
        }
        return seeded
    }
}

extension Seeder {
    /// The generated org's units in order: the district, its towns, communities and grids
    /// (`OrgGenerator.yaml`'s ids and `chat-<id>` groups on the generic platform).
    static func units(towns: Int = 15, communities: Int = 109, grids: Int = 1034) -> [String] {
        ["d"] + (1...towns).map { "t\($0)" } + (1...communities).map { "c\($0)" } + (1...grids).map { "g\($0)" }
    }

    /// Writes `count` pending routine notices, dealt round-robin over every unit's group (each group
    /// its own robot), through LeagueStore's protocol in transactions of 5,000. Keys are `bench:<n>`.
    static func seedOutbox(path: String, count: Int, units: [String], at now: Date) async throws {
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
