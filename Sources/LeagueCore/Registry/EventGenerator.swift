import Foundation

/// A month of plausible events for an org tree, for the report benchmark. Pure and seeded: the
/// same tree, month, size and seed give the same events.
public enum EventGenerator {
    /// The grids that held their deliberation meeting and closed its minutes in a generated month:
    /// nine in ten, chosen by `seed`. Pure.
    public static func unitsWithMinutes(org: OrgTree, seed: UInt64 = 2026) -> Set<String> {
        var random = SplitMix(seed: seed ^ 0x6D69_6E75_7465_73)
        return Set(org.units.filter { org.children(of: $0.id).isEmpty && $0.parentID != nil && random.chance(0.9) }.map(\.id))
    }

    /// - Parameters:
    ///   - tasks: how many tasks (dispatches and reports) the month holds.
    ///   - start: the month's first instant; events spread over 30 days from it.
    /// - Returns: events in time order, of the kinds the bot writes (task.created, target.assigned, task.ack,
    ///   task.breach, report.created, report.claimed, demand.created/resolved/overdue). Which units
    ///   have minutes is not an event: see `unitsWithMinutes`.
    public static func month(org: OrgTree, start: Date, tasks: Int, seed: UInt64 = 2026) -> [EventRecord] {
        var random = SplitMix(seed: seed)
        let issuers = org.units.filter { !org.children(of: $0.id).isEmpty }
        let grids = org.units.filter { org.children(of: $0.id).isEmpty && $0.parentID != nil }
        guard !issuers.isEmpty else { return [] }
        let children = Dictionary(uniqueKeysWithValues: issuers.map { ($0.id, org.children(of: $0.id)) })
        // Most work is a community dispatching to its grids; towns and the district dispatch less often.
        let byTier = Dictionary(grouping: issuers, by: \.tier)
        let pools: [(weight: Int, units: [OrgUnit])] = org.tiers.compactMap { tier in
            guard let units = byTier[tier], !units.isEmpty else { return nil }
            let weight = tier == "community" ? 80 : tier == "town" ? 15 : 5
            return (weight, units)
        }
        let totalWeight = pools.reduce(0) { $0 + $1.weight }
        var events: [EventRecord] = []
        events.reserveCapacity(tasks * 22)
        let seconds = 30.0 * 86_400
        for id in 1...max(tasks, 1) {
            let at = start.addingTimeInterval(seconds * Double(id) / Double(tasks + 1))
            let urgent = random.chance(0.1)
            let target = urgent ? 180.0 : 600.0
            if random.chance(0.05), !grids.isEmpty {
                // An upward report from a grid, claimed by its parent.
                let grid = grids[random.below(grids.count)]
                guard let parent = grid.parentID.flatMap({ org.unit($0) }) else { continue }
                events.append(EventRecord(at: at, kind: .reportCreated, taskID: id, unitID: grid.id, memberID: grid.members.first?.id, data: ["urgent": urgent ? "1" : "0"]))
                events.append(EventRecord(at: at, kind: .targetAssigned, taskID: id, unitID: parent.id, data: ["kind": "report"]))
                let delay = Double(30 + random.below(Int(target * 1.5)))
                events.append(
                    EventRecord(
                        at: at.addingTimeInterval(delay), kind: .reportClaimed, taskID: id, unitID: parent.id,
                        memberID: parent.members.first?.id, data: ["late": delay > target ? "1" : "0", "seconds": String(Int(delay))]))
                continue
            }
            var pick = random.below(totalWeight)
            var pool = pools[0].units
            for entry in pools {
                if pick < entry.weight { pool = entry.units; break }
                pick -= entry.weight
            }
            let issuer = pool[random.below(pool.count)]
            let targets = children[issuer.id] ?? []
            events.append(
                EventRecord(
                    at: at, kind: .taskCreated, taskID: id, unitID: issuer.id, memberID: issuer.members.first?.id,
                    data: ["urgent": urgent ? "1" : "0", "targets": String(targets.count), "target_seconds": String(Int(target))]))
            for unit in targets {
                events.append(EventRecord(at: at, kind: .targetAssigned, taskID: id, unitID: unit.id, data: ["kind": "dispatch"]))
                // Most acknowledge well within target; some late; a few never.
                let roll = random.below(100)
                if roll < 3 {
                    events.append(EventRecord(at: at.addingTimeInterval(target), kind: .taskBreach, taskID: id, unitID: unit.id, data: ["step": "1"]))
                    continue
                }
                let delay = roll < 88 ? Double(5 + random.below(Int(target) - 5)) : Double(Int(target) + random.below(Int(target) * 2))
                if delay > target {
                    events.append(EventRecord(at: at.addingTimeInterval(target), kind: .taskBreach, taskID: id, unitID: unit.id, data: ["step": "1"]))
                }
                events.append(
                    EventRecord(
                        at: at.addingTimeInterval(delay), kind: .taskAck, taskID: id, unitID: unit.id, memberID: unit.members.first?.id,
                        data: ["late": delay > target ? "1" : "0", "seconds": String(Int(delay))]))
            }
        }
        // Demands: a few per grid.
        var demandID = 0
        for grid in grids {
            for _ in 0..<random.below(4) {
                demandID += 1
                let at = start.addingTimeInterval(Double(random.below(Int(seconds))))
                events.append(EventRecord(at: at, kind: .demandCreated, unitID: grid.id, memberID: grid.members.first?.id, data: ["demand": String(demandID)]))
                let roll = random.below(10)
                if roll < 6 {
                    events.append(
                        EventRecord(
                            at: at.addingTimeInterval(86_400), kind: .demandResolved, unitID: grid.id,
                            memberID: grid.members.first?.id, data: ["demand": String(demandID)]))
                } else if roll < 8 {
                    events.append(EventRecord(at: at.addingTimeInterval(3 * 86_400), kind: .demandOverdue, unitID: grid.id, data: ["demand": String(demandID)]))
                }
            }
        }
        events.sort { $0.at < $1.at }
        return events
    }
}

extension SplitMix {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}
