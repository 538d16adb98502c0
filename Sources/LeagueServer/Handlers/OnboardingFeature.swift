import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging

/// Onboarding in chat: `/绑定 CODE` binds a chat to its unit, `/绑定` shows the binding, `/解绑`
/// releases it, `/登记 姓名 手机号` links a member's own platform account to the roster.
/// Everything learned goes to the store and reaches the engine through its `OrgDirectory`.
enum OnboardingFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
        commands["bind"] = audited(showOrRefuseBinding)
        commands["unbind"] = audited(unbind)
        commands["register"] = audited(registerMember)
        timers[UnboundNotice.timerKind] = fireUnboundNotice
    }

    // MARK: The weekly notice of units without a group

    /// Sets this and next week's notice timers when `onboarding.unbound_notice` is on; idempotent.
    static func ensureScheduled(_ tx: any StoreTransaction, config: BotConfig, now: Date) throws {
        guard let time = config.onboarding.unboundNotice else { return }
        for timer in UnboundNotice.timers(at: now, at: time, timeZone: config.timeZone) { try tx.schedule(timer) }
    }

    /// The start-up hook: schedules the weekly notice in one transaction; failures are logged, not thrown.
    static func start(_ engine: Engine) async {
        guard engine.config.onboarding.unboundNotice != nil else { return }
        let config = engine.config
        let now = engine.clock.now()
        await engine.writeOrLog("could not schedule the weekly unbound-groups notice") { tx in try ensureScheduled(tx, config: config, now: now) }
    }

    /// The weekly notice: every bound group with units below it still unbound is told which (its
    /// admins mentioned); skipped when switched off since, or missed by more than a day.
    static func fireUnboundNotice(_ t: TimerContext) throws {
        try ensureScheduled(t.tx, config: t.config, now: t.now)
        guard t.config.onboarding.unboundNotice != nil else {
            try t.tx.append(EventRecord(at: t.now, kind: .unboundNoticeSkipped, data: ["week": t.timer.subject, "reason": "switched off"]))
            return
        }
        guard UnboundNotice.isRelevant(due: t.timer.dueAt, at: t.now) else {
            t.engine.logger.notice("weekly unbound-groups notice missed by more than a day; skipped", metadata: ["key": "\(t.timer.key)"])
            try t.tx.append(EventRecord(at: t.now, kind: .unboundNoticeSkipped, data: ["week": t.timer.subject, "reason": "late"]))
            return
        }
        let notices = UnboundNotice.notices(t.org, language: t.config.language)
        for notice in notices {
            guard let group = notice.unit.group else { continue }
            let admins = notice.unit.members.filter { $0.has(.admin) }
            try t.tx.enqueue(
                OutboundMessage(
                    key: "onboard-unbound:\(t.timer.subject):\(notice.unit.id)", unitID: notice.unit.id, group: group,
                    text: notice.text, mentions: TaskPolicy.mentions(of: admins, platform: group.platform)), at: t.now)
        }
        let unbound = t.org.units.filter { $0.group == nil }.count
        try t.tx.append(EventRecord(at: t.now, kind: .unboundNotice, data: ["week": t.timer.subject, "groups": String(notices.count), "unbound": String(unbound)]))
    }

    /// A refusal that is written to the audit log: it must outlive the handler's savepoint.
    struct AuditedRefusal: Error {
        var refusal: Refusal
        var entry: AuditEntry
    }

    /// Answers an `AuditedRefusal` and keeps its audit row (the handlers refuse before writing anything else).
    static func audited(_ handler: @escaping @Sendable (CommandContext) throws -> Void) -> CommandHandler {
        { c in
            do {
                try handler(c)
            } catch let refused as AuditedRefusal {
                try c.tx.appendAudit(refused.entry)
                try c.reply(refused.refusal.text(c.language), mentionSender: true)
            }
        }
    }

    /// The hash a binding code is stored under.
    static func hash(_ normalizedCode: String) -> String { Bytes.sha256Hex("leagueops-binding-code:" + normalizedCode) }

    // MARK: /绑定 in a chat no unit is bound to

    /// `/绑定 CODE` from an unbound chat: checks the code and binds the chat, or answers why not.
    /// Runs in its own savepoint; an answer the platform cannot deliver without robot credentials is dropped.
    static func bindUnboundChat(engine: Engine, tx: any StoreTransaction, record: InboundRecord, org: OrgTree, command: ParsedCommand) {
        let message = record.message
        let language = engine.config.language
        let chatGroup = GroupBinding(platform: message.platform, chat: message.chat)
        var replyGroup = chatGroup
        var replyUnit = ""
        let text: String
        do {
            var bound: OrgUnit?
            try tx.savepoint { bound = try bind(engine: engine, tx: tx, record: record, org: org, command: command) }
            guard let unit = bound else { return }
            replyGroup = unit.group ?? chatGroup
            replyUnit = unit.id
            text = boundText(unit, org: org, language: language, engine: engine)
        } catch let refused as AuditedRefusal {
            try? tx.savepoint { try tx.appendAudit(refused.entry) }
            text = refused.refusal.text(language)
        } catch let refusal as Refusal {
            text = refusal.text(language)
        } catch {
            engine.logger.error("binding failed", metadata: ["inbound": "\(record.id)", "error": "\(error)"])
            text = OnboardingTexts.bindingFailed(language)
        }
        let reply = OutboundMessage(key: "in:\(record.id):reply", unitID: replyUnit, group: replyGroup, text: text)
        if let adapter = engine.adapters[message.platform], (try? adapter.encode(reply, now: record.receivedAt)) == nil {
            engine.logger.notice(
                "cannot answer an unbound chat on this platform without robot credentials",
                metadata: ["platform": "\(message.platform)", "chat": "\(message.chat)"])
            return
        }
        try? tx.savepoint { try tx.enqueue(reply, at: record.receivedAt) }
    }

    /// Checks a code and binds the chat: the unit as bound, or a refusal.
    static func bind(engine: Engine, tx: any StoreTransaction, record: InboundRecord, org: OrgTree, command: ParsedCommand) throws -> OrgUnit {
        let message = record.message
        let now = record.receivedAt
        guard let typed = command.args["code"] else {
            throw Refusal(
                zh: "本群还没有绑定到任何单位。请发送“/绑定 绑定码”（绑定码由区团委发放，例如 /绑定 K7QM-3XPA）。",
                en: "This group is not bound to any unit yet. Send “/bind CODE” with the code the district office handed out (e.g. /bind K7QM-3XPA).")
        }
        let actor = "\(message.platform):\(message.sender)"
        func refuse(_ zh: String, _ en: String, _ why: String, unit: String? = nil) throws -> Never {
            throw AuditedRefusal(
                refusal: Refusal(zh: zh, en: en),
                entry: AuditEntry(
                    at: now, actor: actor, unitID: unit, action: "onboard.bind",
                    detail: "\(message.platform):\(message.chat) \(why)", outcome: "refused"))
        }
        guard let code = BindingCodeText.normalized(typed), let stored = try tx.bindingCode(hash: hash(code)) else {
            try refuse(
                "绑定码“\(typed)”无效，请核对后重发（绑定码为8位字母数字，例如 K7QM-3XPA）。",
                "The code “\(typed)” is not valid; check it and send it again (8 letters and digits, e.g. K7QM-3XPA).",
                "unknown code")
        }
        guard stored.usedAt == nil else {
            try refuse(
                "这个绑定码已经用过了。每个绑定码只能用一次；如需重新绑定，请向区团委要新的绑定码。",
                "This code has been used already. Each code works once; ask the district office for a new one.",
                "used code", unit: stored.unitID)
        }
        guard stored.expiresAt > now else {
            try refuse(
                "这个绑定码已过期，请向区团委要新的绑定码。",
                "This code has expired; ask the district office for a new one.",
                "expired code", unit: stored.unitID)
        }
        guard let unit = org.unit(stored.unitID) else {
            try refuse(
                "这个绑定码对应的单位已不在组织架构中，请联系区团委。",
                "The unit of this code is no longer in the org; ask the district office.",
                "unit gone", unit: stored.unitID)
        }
        if unit.group != nil {
            if let written = engine.directory.configured.unit(unit.id)?.group, !written.chat.isEmpty {
                try refuse(
                    "\(unit.name)在 org.yaml 中已写明绑定的群，以文件为准；如要改到本群，请修改 org.yaml。",
                    "\(unit.name) has its group written in org.yaml, which wins; to move it here, edit org.yaml.",
                    "bound in org.yaml", unit: unit.id)
            }
            try refuse(
                "\(unit.name)已经绑定到另一个群。如要改到本群，请先由\(unit.name)或上级单位的管理员在原群发送 /解绑。",
                "\(unit.name) is bound to another group already. To move it here, an admin of \(unit.name) or a unit above must first send /unbind in that group.",
                "unit bound elsewhere", unit: unit.id)
        }
        let binding = ChatBindingRecord(platform: message.platform, chat: message.chat, unitID: unit.id, boundAt: now, boundBy: message.sender)
        try tx.bindChat(binding)
        try tx.markCodeUsed(hash: stored.hash, at: now, in: "\(message.platform):\(message.chat)")
        try tx.appendAudit(AuditEntry(at: now, actor: actor, unitID: unit.id, action: "onboard.bind", detail: "\(message.platform):\(message.chat)"))
        try tx.append(EventRecord(at: now, kind: .onboardBound, unitID: unit.id, data: ["platform": message.platform, "chat": message.chat]))
        let directory = engine.directory
        tx.afterCommit { directory.invalidate() }
        // The unit as it will be once committed: the new chat, the robot credentials org.yaml gave it.
        var bound = unit
        let credentials = engine.directory.configured.unit(unit.id)?.group.flatMap { $0.platform == message.platform ? $0.credentials : nil } ?? [:]
        bound.group = GroupBinding(platform: message.platform, chat: message.chat, credentials: credentials)
        return bound
    }

    /// The answer to a successful binding: the unit's full path and what the group will receive.
    static func boundText(_ unit: OrgUnit, org: OrgTree, language: Language, engine: Engine) -> String {
        OnboardingTexts.bound(
            path: org.path(of: unit.id), hasParent: unit.parentID != nil, hasChildren: !org.children(of: unit.id).isEmpty,
            ackHint: engine.ackHint(unit.group?.platform ?? ""), language: language)
    }

    // MARK: /绑定 in a bound chat

    /// `/绑定` in a bound chat shows the binding; with a code it refuses (the chat is bound already).
    static func showOrRefuseBinding(_ c: CommandContext) throws {
        let fromFile = c.engine.directory.configured.unit(c.unit.id)?.group.map { !$0.chat.isEmpty } ?? false
        let path = c.org.path(of: c.unit.id)
        guard let typed = c.command.args["code"] else {
            try c.reply(OnboardingTexts.binding(path: path, fromFile: fromFile, language: c.language))
            return
        }
        let source = OnboardingTexts.source(fromFile: fromFile, language: c.language)
        throw AuditedRefusal(
            refusal: Refusal(
                zh: "本群已经绑定到\(path)\(source)，绑定码未使用。如要改绑，请先由管理员发送 /解绑。",
                en: "This group is bound to \(path)\(source) already; the code was not used. To rebind, an admin must send /unbind first."),
            entry: AuditEntry(
                at: c.now, actor: c.member?.id ?? "\(c.record.message.platform):\(c.record.message.sender)", unitID: c.unit.id,
                action: "onboard.bind", detail: "\(c.record.message.platform):\(c.record.message.chat) chat bound already (\(BindingCodeText.normalized(typed) == nil ? "bad code" : "code not used"))",
                outcome: "refused"))
    }

    // MARK: /解绑

    /// `/解绑 [单位]`: an admin of the unit or of a unit above it releases a binding made with a code.
    static func unbind(_ c: CommandContext) throws {
        let member = try c.requireMember()
        var target = c.unit
        if let word = c.command.args["unit"] {
            guard let found = c.org.unit(named: word) else {
                throw Refusal(zh: "找不到单位“\(word)”。", en: "No unit called “\(word)”.")
            }
            guard c.org.isInSubtree(found.id, of: c.unit.id) else {
                throw Refusal(
                    zh: "“\(found.name)”不是本单位或其下级，请到它或它上级的群里解绑。",
                    en: "“\(found.name)” is not this unit or below it; unbind it from its own group or one above.")
            }
            target = found
        }
        let actor = member.id
        guard member.has(.admin), c.org.isInSubtree(target.id, of: member.unitID) else {
            throw AuditedRefusal(
                refusal: Refusal(zh: "只有\(target.name)或其上级单位的管理员可以解绑。", en: "Only an admin of \(target.name) or of a unit above it may unbind it."),
                entry: AuditEntry(at: c.now, actor: actor, unitID: c.unit.id, action: "onboard.unbind", detail: target.id, outcome: "refused"))
        }
        if let written = c.engine.directory.configured.unit(target.id)?.group, !written.chat.isEmpty {
            throw Refusal(
                zh: "\(target.name)的群写在 org.yaml 中，请修改文件后重新加载。",
                en: "\(target.name)'s group is written in org.yaml; change the file and reload.")
        }
        guard let removed = try c.tx.unbindChat(unitID: target.id) else {
            throw Refusal(zh: "\(target.name)还没有绑定群。", en: "\(target.name) has no group bound.")
        }
        try c.tx.appendAudit(AuditEntry(at: c.now, actor: actor, unitID: target.id, action: "onboard.unbind", detail: "\(removed.platform):\(removed.chat)"))
        try c.log(.onboardUnbound, unitID: target.id, data: ["platform": removed.platform, "chat": removed.chat])
        let directory = c.engine.directory
        c.tx.afterCommit { directory.invalidate() }
        try c.reply(OnboardingTexts.unbound(path: c.org.path(of: target.id), language: c.language))
    }

    // MARK: /登记

    /// `/登记 姓名 手机号`: when the roster has that name and mobile in this unit (or a supervisor of it
    /// with that name and mobile), the sender's platform id is bound to that member.
    static func registerMember(_ c: CommandContext) throws {
        let message = c.record.message
        let actor = "\(message.platform):\(message.sender)"
        func refused(_ zh: String, _ en: String, _ detail: String) -> AuditedRefusal {
            AuditedRefusal(
                refusal: Refusal(zh: zh, en: en),
                entry: AuditEntry(at: c.now, actor: actor, unitID: c.unit.id, action: "onboard.register", detail: detail, outcome: "refused"))
        }
        guard let (name, mobileText) = Mobile.splitNameAndMobile(c.command.text), let mobile = Mobile.normalized(mobileText) else {
            throw Refusal(
                zh: "请按“/登记 姓名 手机号”发送，例如 /登记 张三 13800000000。",
                en: "Send it as “/register name mobile”, e.g. /register Zhang San 13800000000.")
        }
        let masked = Mobile.masked(mobile)
        // This unit's members, then the supervisors listed for it who sit elsewhere.
        let candidates = c.unit.members + c.org.supervisors(of: c.unit.id).filter { $0.unitID != c.unit.id }
        let match = candidates.first { member in
            member.name.replacingOccurrences(of: " ", with: "").lowercased() == name.replacingOccurrences(of: " ", with: "").lowercased()
                && member.mobile.flatMap(Mobile.normalized) == mobile
        }
        guard let member = match else {
            throw refused(
                "登记未成功：本单位花名册上没有与这组姓名和手机号（\(masked)）一致的人。请核对后重发，或联系区团委更新花名册。",
                "Not registered: this unit's roster has nobody with that name and mobile (\(masked)). Check and send again, or ask the district office to update the roster.",
                "no match (\(masked))")
        }
        if let current = c.member {
            guard current.id != member.id else {
                try c.reply(OnboardingTexts.alreadyRegistered(name: member.name, masked: masked, language: c.language), mentionSender: true)
                return
            }
            throw refused(
                "您的账号已登记为花名册上的另一个人。如有错误，请联系区团委。",
                "Your account is registered to another person on the roster. If that is wrong, ask the district office.",
                "account already \(current.id)")
        }
        if let written = c.engine.directory.configured.member(member.id)?.ids[message.platform], written != message.sender {
            throw refused(
                "\(member.name)的账号已写在 org.yaml 中，以文件为准；如需更改请联系区团委。",
                "\(member.name)'s account is written in org.yaml, which wins; ask the district office to change it.",
                "\(member.id) has an id in org.yaml")
        }
        try c.tx.registerMemberID(MemberIDRecord(platform: message.platform, userID: message.sender, memberID: member.id, registeredAt: c.now))
        try c.tx.appendAudit(AuditEntry(at: c.now, actor: actor, unitID: member.unitID, action: "onboard.register", detail: "\(member.id) (\(masked))"))
        try c.log(.onboardRegistered, unitID: member.unitID, data: ["member": member.id, "platform": message.platform])
        let directory = c.engine.directory
        c.tx.afterCommit { directory.invalidate() }
        try c.reply(OnboardingTexts.registered(name: member.name, masked: masked, path: c.org.path(of: member.unitID), language: c.language))
    }
}
