import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms

/// Onboarding operations the CLI runs against the store (`leagueops org codes`).
public enum Onboarding {
    /// A binding code handed out for one unit.
    public struct IssuedCode: Sendable, Hashable {
        public var unit: OrgUnit
        /// The unit's full path (任城区 › 解放路街道 › …).
        public var path: String
        /// The code as printed, e.g. `K7QM-3XPA` (only its hash is stored).
        public var code: String
        public var expiresAt: Date
    }

    /// Issues one code for each unit not yet bound (earlier unused codes of those units stop working).
    /// - Parameters:
    ///   - units: the units asked for, in the order to print.
    ///   - org: org.yaml alone; what was learned in chat is read from the store.
    /// - Returns: the codes issued, and the units skipped because a group is bound already.
    public static func issueCodes<G: RandomNumberGenerator & Sendable>(
        for units: [OrgUnit], org: OrgTree, store: any Store, ttl: Double, now: Date, generator: G
    ) async throws -> (issued: [IssuedCode], alreadyBound: [OrgUnit]) {
        try await store.write { tx in
            var generator = generator
            let effective = OrgOverlay.apply(try tx.learnedBindings(), to: org).tree
            var issued: [IssuedCode] = []
            var bound: [OrgUnit] = []
            var records: [BindingCodeRecord] = []
            var used: Set<String> = []
            for unit in units {
                if effective.unit(unit.id)?.group != nil {
                    bound.append(unit)
                    continue
                }
                var code = BindingCodeText.generate(using: &generator)
                while try !used.insert(code).inserted || tx.bindingCode(hash: OnboardingFeature.hash(BindingCodeText.normalized(code)!)) != nil {
                    code = BindingCodeText.generate(using: &generator)
                }
                let expires = now.addingTimeInterval(ttl)
                records.append(BindingCodeRecord(hash: OnboardingFeature.hash(BindingCodeText.normalized(code)!), unitID: unit.id, createdAt: now, expiresAt: expires))
                issued.append(IssuedCode(unit: unit, path: org.path(of: unit.id), code: code, expiresAt: expires))
            }
            try tx.issueCodes(records)
            if !records.isEmpty {
                try tx.appendAudit(
                    AuditEntry(
                        at: now, actor: "operator", unitID: nil, action: "onboard.codes",
                        detail: "\(records.count) codes, valid until \(Int(now.addingTimeInterval(ttl).timeIntervalSince1970))"))
            }
            return (issued, bound)
        }
    }

    /// The org as the engine sees it: org.yaml with the chats bound and members registered in chat laid over it.
    /// - Returns: the effective tree, and why learned bindings were left out (org.yaml wins).
    public static func effectiveOrg(_ org: OrgTree, store: any Store) async throws -> (tree: OrgTree, conflicts: [OrgOverlay.Conflict]) {
        let learned = try await store.write { tx in try tx.learnedBindings() }
        return OrgOverlay.apply(learned, to: org)
    }

    /// Groups bound and members registered below `root` (nil: the whole org), with what was learned in chat
    /// (`leagueops org status`).
    public static func status(org: OrgTree, root: String?, store: any Store) async throws -> (status: OnboardingStatus, conflicts: [OrgOverlay.Conflict]) {
        let (effective, conflicts) = try await effectiveOrg(org, store: store)
        return (OnboardingStatus.compute(effective, root: root), conflicts)
    }

    /// The org file with the chats bound and members registered in chat written in (`leagueops org export`).
    /// - Returns: the YAML, notes on what org.yaml kept, and what was learned.
    public static func export(_ parsed: OrgFileMerge.Parsed, store: any Store) async throws -> (yaml: String, notes: [String], learned: LearnedBindings) {
        let learned = try await store.write { tx in try tx.learnedBindings() }
        let (yaml, notes) = OrgFileMerge.export(parsed, learned: learned)
        return (yaml, notes, learned)
    }

    /// The hash a code is stored under, or nil when the text cannot be a code.
    public static func storedHash(of code: String) -> String? {
        BindingCodeText.normalized(code).map(OnboardingFeature.hash)
    }

    /// The codes as a table for the people who hand them out.
    public static func render(_ codes: [IssuedCode], format: String, language: Language, timeZone: TimeZone) -> String {
        let time = TimeFormat(timeZone: timeZone)
        let header = language == .zh ? ["单位编号", "单位", "层级", "绑定码", "有效期至", "在群里发送"] : ["unit_id", "unit", "tier", "code", "valid_until", "send_in_the_group"]
        let command = language == .zh ? "/绑定" : "/bind"
        let rows = codes.map { [$0.unit.id, $0.path, $0.unit.tier, $0.code, "\(time.day($0.expiresAt)) \(time.clock($0.expiresAt))", "\(command) \($0.code)"] }
        if format == "csv" {
            return ([header] + rows).map(CSV.row).joined(separator: "\r\n") + "\r\n"
        }
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
        lines += rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }
}

// MARK: Platform user ids by mobile

extension Onboarding {
    /// What `leagueops org resolve-ids` did.
    public struct ResolveReport: Sendable {
        public var platform: String
        public var resolved: [(member: Member, userID: String)] = []
        public var notFound: [Member] = []
        public var failed: [(member: Member, why: String)] = []
        /// Found, but the account is linked to another roster entry already (not stored).
        public var conflicts: [(member: Member, why: String)] = []
        /// Members that have an id on the platform already (org.yaml or registered in chat).
        public var alreadyLinked = 0
        public var withoutMobile = 0
        /// Members not asked because the lookup stopped (see `stopped`).
        public var notAsked: [Member] = []
        public var stopped: String?

        /// One line per member that was not linked (mobiles masked), then the totals.
        public func lines() -> [String] {
            var out: [String] = []
            func who(_ member: Member) -> String { "\(member.unitID) \(member.name) (\(member.id), \(member.mobile.map(Mobile.masked) ?? "-"))" }
            for item in resolved { out.append("linked     \(who(item.member)) → \(platform):\(item.userID)") }
            for member in notFound { out.append("not found  \(who(member))") }
            for item in failed { out.append("failed     \(who(item.member)): \(item.why)") }
            for item in conflicts { out.append("conflict   \(who(item.member)): \(item.why)") }
            if let stopped { out.append("\(stopped); \(notAsked.count) member(s) not asked") }
            out.append(
                "\(platform): \(resolved.count) linked, \(notFound.count) not found, \(failed.count) failed, \(conflicts.count) conflict(s), "
                    + "\(alreadyLinked) already linked, \(withoutMobile) without a mobile")
            return out
        }
    }

    /// Looks up, by mobile, the platform user id of every member of `units` that has a mobile on the
    /// roster and no id on that platform yet (neither in org.yaml nor registered in chat), and stores
    /// the ids found as registrations (an audit row each). Only ids are stored, never a mobile.
    /// - Parameters:
    ///   - units: the units whose members to look up (nil: the whole org).
    ///   - org: org.yaml alone; what was learned in chat is read from the store.
    ///   - dryRun: look up and report, store nothing.
    ///   - pause: seconds between lookup requests.
    /// - Throws: `UserDirectory.Failure` when the platform gives no token; store errors.
    public static func resolveMemberIDs(
        units: [String]?, org: OrgTree, store: any Store, directory: UserDirectory, transport: any HTTPTransport,
        now: Date, dryRun: Bool = false, pause: Double = 0.1
    ) async throws -> ResolveReport {
        let platform = directory.kind.rawValue
        let effective = try await effectiveOrg(org, store: store).tree
        let wanted = units.map(Set.init)
        var report = ResolveReport(platform: platform)
        var asking: [(member: Member, mobile: String)] = []
        for unit in effective.units where wanted?.contains(unit.id) ?? true {
            for member in unit.members {
                if member.ids[platform] != nil { report.alreadyLinked += 1; continue }
                guard let mobile = member.mobile.flatMap(Mobile.normalized) else { report.withoutMobile += 1; continue }
                asking.append((member, mobile))
            }
        }
        var seen: Set<String> = []
        let mobiles = asking.map(\.mobile).filter { seen.insert($0).inserted }
        let (answers, stopped) = try await directory.resolve(mobiles, transport: transport, pause: pause)
        report.stopped = stopped
        var records: [MemberIDRecord] = []
        var taken: [String: String] = [:]  // user id → member id, this run
        for (member, mobile) in asking {
            switch answers[mobile] {
            case nil:
                report.notAsked.append(member)
            case .notFound?:
                report.notFound.append(member)
            case .failed(let why)?:
                report.failed.append((member, why))
            case .found(let userID)?:
                if let other = effective.member(platform: platform, userID: userID), other.id != member.id {
                    report.conflicts.append((member, "the account is linked to \(other.id) (\(other.name)) already"))
                } else if let other = taken[userID] {
                    report.conflicts.append((member, "same mobile and account as \(other); one account links to one roster entry"))
                } else {
                    taken[userID] = member.id
                    records.append(MemberIDRecord(platform: platform, userID: userID, memberID: member.id, registeredAt: now))
                    report.resolved.append((member, userID))
                }
            }
        }
        guard !dryRun else { return report }
        let resolved = report.resolved
        let stored = records
        let summary =
            "\(platform): \(resolved.count) linked, \(report.notFound.count) not found, \(report.failed.count) failed, \(report.conflicts.count) conflicts"
            + (stopped.map { "; \($0)" } ?? "")
        try await store.write { tx in
            for record in stored { try tx.registerMemberID(record) }
            for (member, _) in resolved {
                try tx.appendAudit(
                    AuditEntry(
                        at: now, actor: "operator", unitID: member.unitID, action: "onboard.resolve-id",
                        detail: "\(member.id) (\(member.mobile.map(Mobile.masked) ?? "-")) via \(platform)"))
            }
            try tx.appendAudit(
                AuditEntry(
                    at: now, actor: "operator", unitID: nil, action: "onboard.resolve-ids",
                    detail: summary))
        }
        return report
    }
}
