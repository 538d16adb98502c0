import Foundation
import LeagueConfig
import LeagueCore

/// Issue 11 point 5: texts that would be stored and relayed are screened for ID-card numbers,
/// mobile numbers and the names of registered young people. A refused message's text is not kept,
/// and refusals are limited per sender, so the screen cannot be used to find out who is registered.
extension Engine {
    /// Commands whose text is stored and relayed: tasks, reports, closing notes, meeting items,
    /// agenda items, demands (with their progress, resolve and close notes).
    static let screenedCommands: Set<String> = ["task", "report", "done", "note", "topic", "agreed", "action", "meeting", "demand", "agenda"]
    /// Screening refusals a sender may get in `privacyWindow` before every screened command of
    /// theirs is refused without being looked at.
    static let privacyRefusalLimit = 5
    static let privacyWindow: TimeInterval = 3600

    func screenPrivacy(_ context: CommandContext) throws {
        guard Self.screenedCommands.contains(context.command.id) else { return }
        let text = context.record.message.text
        let sender = context.member?.id ?? "\(context.record.message.platform):\(context.record.message.sender)"
        let since = context.now.addingTimeInterval(-Self.privacyWindow)
        let tx = context.tx
        if try tx.countPrivacyRefusals(memberID: sender, since: since) >= Self.privacyRefusalLimit {
            try tx.blankInboundText(context.record.id)
            throw Refusal(zh: "您近一小时内有多条消息因含有个人信息被拒绝，请稍后再试。", en: "Several of your messages in the last hour were refused for personal data; please try again later.")
        }
        let subtree = Set(([context.unit] + context.org.descendants(of: context.unit.id)).map(\.id))
        let names = try tx.youthRows(gridIDs: subtree).map(\.name)
        guard let finding = PrivacyScreen.screen(text, names: names) else { return }
        try tx.blankInboundText(context.record.id)
        try tx.append(
            EventRecord(
                at: context.now, kind: .privacyRefused, unitID: context.unit.id, memberID: sender,
                data: ["command": context.command.id, "finding": finding.rawValue]))
        throw Self.privacyRefusal(finding)
    }

    /// The reply to a screened command, by what was found.
    static func privacyRefusal(_ finding: PrivacyScreen.Finding) -> Refusal {
        switch finding {
        case .idCardNumber:
            return Refusal(
                zh: "消息中含有身份证号码，机器人没有处理也没有保存。为保护青少年隐私，请不要在群里发送身份证号，去掉后重新发送。",
                en: "The message contains an ID-card number; the bot neither handled nor kept it. To protect young people's privacy, never post ID numbers in a group; remove it and send again.")
        case .mobileNumber:
            return Refusal(
                zh: "消息中含有手机号码，机器人没有处理也没有保存，也不会转发到其他群。为保护个人信息（特别是未成年人），请去掉手机号后重新发送，需要联系时请写明联系人姓名或职务。",
                en:
                    "The message contains a mobile number; the bot neither handled nor kept it and will not pass it on to other groups. To protect personal data (minors' above all), remove the number and send again; name the contact person or their role instead."
            )
        case .registeredName:
            return Refusal(
                zh: "消息中含有青少年登记名单里的姓名，机器人没有处理也没有保存。为保护未成年人隐私，请改用“网格内一名14-17岁青少年”等描述后重新发送。",
                en:
                    "The message names someone from the youth registry; the bot neither handled nor kept it. To protect minors, describe the person instead (e.g. “a 14-17 year old in this grid”) and send again."
            )
        }
    }

    /// Plain chat (not a command) is never relayed as such, but while the group's meeting is open
    /// every line goes into the minutes (the minutes page, its export and the dashboard). A line
    /// with an ID-card or mobile number is never kept; while a meeting is open, or when the line was
    /// addressed to the bot (an @-mention or a `/` that did not parse), neither is one naming a
    /// registered young person, and the sender is told (within the same per-sender refusal limit as
    /// commands, so it cannot probe the registry).
    /// - Returns: true when the text held personal data (it was blanked, and a reply queued if due).
    @discardableResult
    func screenPlainChat(_ record: InboundRecord, unit: OrgUnit, member: Member?, org: OrgTree, tx: any StoreTransaction, addressed: Bool = false) -> Bool {
        let text = record.message.text
        let pattern = PrivacyScreen.screenPatterns(text)
        // The registry is read only when the line goes somewhere: outside a meeting plain chat goes nowhere.
        let recording = (try? tx.openMeeting(unitID: unit.id)) != nil
        guard recording || addressed else {
            if pattern != nil { try? tx.blankInboundText(record.id) }
            return pattern != nil
        }
        var finding = pattern
        if finding == nil {
            let subtree = Set(([unit] + org.descendants(of: unit.id)).map(\.id))
            let names = (try? tx.youthRows(gridIDs: subtree).map(\.name)) ?? []
            finding = PrivacyScreen.screen(text, names: names)
        }
        guard let finding else { return false }
        try? tx.blankInboundText(record.id)
        let sender = member?.id ?? "\(record.message.platform):\(record.message.sender)"
        let now = clock.now()
        let refusals = (try? tx.countPrivacyRefusals(memberID: sender, since: now.addingTimeInterval(-Self.privacyWindow))) ?? Self.privacyRefusalLimit
        guard refusals < Self.privacyRefusalLimit else { return true }
        try? tx.savepoint {
            try tx.append(EventRecord(at: now, kind: .privacyRefused, unitID: unit.id, memberID: sender, data: ["command": "plain", "finding": finding.rawValue]))
            let context = CommandContext(engine: self, tx: tx, record: record, org: org, unit: unit, member: member, command: ParsedCommand(id: "plain"))
            if addressed {
                try context.reply(Self.privacyRefusal(finding).text(config.language), mentionSender: member != nil)
                return
            }
            let what: (String, String)
            switch finding {
            case .idCardNumber: what = ("身份证号码", "an ID-card number")
            case .mobileNumber: what = ("手机号码", "a mobile number")
            case .registeredName: what = ("青少年登记名单里的姓名", "a name from the youth registry")
            }
            try context.reply(
                config.language.pick(
                    "这条发言含有\(what.0)，没有记入议事纪要。为保护个人信息（特别是未成年人），请不要在群里发送。",
                    "That line contains \(what.1); it was not recorded in the minutes. To protect personal data (minors' above all), please do not post it in the group."),
                mentionSender: member != nil)
        }
        return true
    }
}
