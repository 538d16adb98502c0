import Foundation
import LeagueConfig
import LeagueCore

extension LeagueApp {
    /// What a reload of org.yaml did.
    public struct OrgReloadReport: Sendable, Hashable, CustomStringConvertible {
        public var units: Int
        public var added: [String]
        public var removed: [String]
        public var renamedOrMoved: [String]
        /// Waiting targets of removed units that were closed (their issuers were told).
        public var closedTargets: Int
        /// What became of the chats bound in chat with a code: kept under a renamed or moved unit,
        /// or no longer applied (the unit left org.yaml, or org.yaml now names another chat).
        public var bindings: [String] = []

        public var description: String {
            (["org reloaded: \(units) units; \(added.count) added, \(removed.count) removed, \(renamedOrMoved.count) renamed or moved; \(closedTargets) waiting target(s) of removed units closed"]
                + bindings.map { "  " + $0 }).joined(separator: "\n")
        }
    }

    /// Reloads org.yaml (SIGHUP in `serve`). The file is validated first: a bad file throws the same
    /// `file:line` report as at start-up and the running org stays. Open tasks, timers and the
    /// bindings learned in chat refer to unit ids, so they survive renames and moves; a removed unit's
    /// waiting targets are closed with a note to the task's issuer.
    /// - Throws: `ConfigError` when the file does not load.
    public func reloadOrg(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> OrgReloadReport {
        let config = engine.config
        var problems: [ConfigProblem] = []
        let loaded = OrgLoader.load(path: config.orgFile, environment: environment, platforms: Set(config.platforms.keys), problems: &problems)
        guard problems.isEmpty, let tree = loaded else { throw ConfigError(problems) }
        let old = engine.directory.configured
        let removed = old.units.filter { tree.unit($0.id) == nil }
        let added = tree.units.filter { old.unit($0.id) == nil }.map(\.id)
        let changed = tree.units.filter { unit in
            guard let before = old.unit(unit.id) else { return false }
            return before.name != unit.name || before.parentID != unit.parentID
        }.map(\.id)
        engine.directory.replaceConfigured(tree)
        let org = await engine.directory.tree(engine.store)
        let learned = try await engine.store.write { tx in try tx.learnedBindings() }
        var bindings = learned.chats.filter { changed.contains($0.unitID) }.compactMap { binding -> String? in
            guard let unit = org.unit(binding.unitID), unit.group?.chat == binding.chat else { return nil }
            return "chat \(binding.platform):\(binding.chat), bound with a code to \(unit.id), is kept: the unit is now \(org.path(of: unit.id))"
        }
        bindings += OrgOverlay.apply(LearnedBindings(chats: learned.chats), to: tree).conflicts.map {
            $0.en + " — messages from that chat are ignored until it is bound again with a new code"
        }
        let now = engine.clock.now()
        let language = config.language
        let closed = try await engine.store.write { tx -> Int in
            var count = 0
            for unit in removed {
                for task in try tx.openTasks(involving: unit.id, limit: 100_000) {
                    for var target in try tx.targets(ofTask: task.id) where target.unitID == unit.id && target.isWaiting {
                        target.acknowledgedAt = now
                        target.acknowledgedBy = "unit-removed"
                        try tx.update(target)
                        try tx.append(EventRecord(at: now, kind: .targetClosed, taskID: task.id, unitID: unit.id, data: ["reason": "unit removed from org.yaml"]))
                        count += 1
                        guard let issuerUnit = org.unit(task.issuerUnitID), let group = issuerUnit.group else { continue }
                        let text = language.pick(
                            "任务 \(task.label)：单位“\(unit.name)”（\(unit.id)）已从组织架构中移除，其待确认项已关闭，不再提醒。",
                            "Task \(task.label): unit “\(unit.name)” (\(unit.id)) was removed from the org; its waiting acknowledgement is closed and no longer reminded."
                        )
                        try tx.enqueue(
                            OutboundMessage(
                                key: "task:\(task.id):removed:\(unit.id)", unitID: issuerUnit.id, group: group, text: text,
                                priority: task.priority), at: now)
                    }
                }
            }
            return count
        }
        wakeAll()
        return OrgReloadReport(
            units: tree.units.count, added: added, removed: removed.map(\.id), renamedOrMoved: changed, closedTargets: closed,
            bindings: bindings)
    }
}
