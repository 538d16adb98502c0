import Foundation
import GRDB
import LeagueCore

extension SQLiteTransaction: OnboardingRecords {
    func afterCommit(_ action: @escaping @Sendable () -> Void) {
        db.afterNextTransaction(onCommit: { _ in action() })
    }

    func issueCodes(_ codes: [BindingCodeRecord]) throws {
        for unit in Set(codes.map(\.unitID)) {
            try execute(sql: "DELETE FROM onboard_codes WHERE unit_id = ? AND used_at IS NULL", arguments: [unit])
        }
        for code in codes {
            try execute(
                sql: "INSERT INTO onboard_codes (code_hash, unit_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [code.hash, code.unitID, code.createdAt.timeIntervalSince1970, code.expiresAt.timeIntervalSince1970])
        }
    }

    func bindingCode(hash: String) throws -> BindingCodeRecord? {
        try fetchOne(sql: "SELECT * FROM onboard_codes WHERE code_hash = ?", arguments: [hash]).map { row in
            BindingCodeRecord(
                hash: row["code_hash"], unitID: row["unit_id"], createdAt: Self.date(row["created_at"] as Double),
                expiresAt: Self.date(row["expires_at"] as Double), usedAt: Self.date(row["used_at"] as Double?), usedIn: row["used_in"])
        }
    }

    func markCodeUsed(hash: String, at: Date, in place: String) throws {
        try execute(
            sql: "UPDATE onboard_codes SET used_at = ?, used_in = ? WHERE code_hash = ? AND used_at IS NULL",
            arguments: [at.timeIntervalSince1970, place, hash])
    }

    func learnedBindings() throws -> LearnedBindings {
        let chats = try fetchAll(sql: "SELECT * FROM onboard_chats ORDER BY bound_at, unit_id").map(Self.chatBinding(from:))
        let members = try fetchAll(sql: "SELECT * FROM onboard_members ORDER BY registered_at, member_id").map { row in
            MemberIDRecord(platform: row["platform"], userID: row["user_id"], memberID: row["member_id"], registeredAt: Self.date(row["registered_at"] as Double))
        }
        return LearnedBindings(chats: chats, members: members)
    }

    func bindChat(_ binding: ChatBindingRecord) throws {
        // A row for the same chat can only be stale here (its unit left org.yaml, or org.yaml gave the
        // unit another chat): the engine binds only chats no unit is bound to. The new binding replaces it.
        try execute(
            sql: "INSERT OR REPLACE INTO onboard_chats (platform, chat, unit_id, bound_at, bound_by) VALUES (?, ?, ?, ?, ?)",
            arguments: [binding.platform, binding.chat, binding.unitID, binding.boundAt.timeIntervalSince1970, binding.boundBy])
    }

    func unbindChat(unitID: String) throws -> ChatBindingRecord? {
        guard let row = try fetchOne(sql: "SELECT * FROM onboard_chats WHERE unit_id = ?", arguments: [unitID]) else { return nil }
        try execute(sql: "DELETE FROM onboard_chats WHERE unit_id = ?", arguments: [unitID])
        return Self.chatBinding(from: row)
    }

    static func chatBinding(from row: Row) -> ChatBindingRecord {
        ChatBindingRecord(
            platform: row["platform"], chat: row["chat"], unitID: row["unit_id"], boundAt: date(row["bound_at"] as Double), boundBy: row["bound_by"])
    }

    func registerMemberID(_ record: MemberIDRecord) throws {
        try execute(
            sql: "DELETE FROM onboard_members WHERE (member_id = ? AND platform = ?) OR (platform = ? AND user_id = ?)",
            arguments: [record.memberID, record.platform, record.platform, record.userID])
        try execute(
            sql: "INSERT INTO onboard_members (platform, user_id, member_id, registered_at) VALUES (?, ?, ?, ?)",
            arguments: [record.platform, record.userID, record.memberID, record.registeredAt.timeIntervalSince1970])
    }
}
