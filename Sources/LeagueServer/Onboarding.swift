import Foundation
import LeagueConfig
import LeagueCore

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
                try tx.appendAudit(AuditEntry(at: now, actor: "operator", unitID: nil, action: "onboard.codes",
                                              detail: "\(records.count) codes, valid until \(Int(now.addingTimeInterval(ttl).timeIntervalSince1970))"))
            }
            return (issued, bound)
        }
    }

    /// The hash a code is stored under, or nil when the text cannot be a code.
    public static func storedHash(of code: String) -> String? {
        BindingCodeText.normalized(code).map(OnboardingFeature.hash)
    }

    /// The codes as a table for the people who hand them out.
    public static func render(_ codes: [IssuedCode], format: String, language: Language, timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let header = language == .zh ? ["单位编号", "单位", "层级", "绑定码", "有效期至", "在群里发送"] : ["unit_id", "unit", "tier", "code", "valid_until", "send_in_the_group"]
        let command = language == .zh ? "/绑定" : "/bind"
        let rows = codes.map { [$0.unit.id, $0.path, $0.unit.tier, $0.code, formatter.string(from: $0.expiresAt), "\(command) \($0.code)"] }
        if format == "csv" {
            func field(_ text: String) -> String {
                text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
            }
            return ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        }
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
        lines += rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }
}
