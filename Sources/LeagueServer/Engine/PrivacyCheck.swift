import Foundation
import LeagueConfig
import LeagueCore

/// Issue 11 point 5: texts that would be stored and relayed are screened for ID-card numbers and
/// the names of registered young people. A refused message's text is not kept, and refusals are
/// limited per sender, so the screen cannot be used to find out who is registered.
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
        if try tx.countEvents(kind: "privacy.refused", memberID: sender, since: since) >= Self.privacyRefusalLimit {
            try tx.blankInboundText(context.record.id)
            throw Refusal(zh: "您近一小时内有多条消息因含有个人信息被拒绝，请稍后再试。", en: "Several of your messages in the last hour were refused for personal data; please try again later.")
        }
        let subtree = Set(([context.unit] + context.org.descendants(of: context.unit.id)).map(\.id))
        let names = try tx.youthRows(gridIDs: subtree).map(\.name)
        guard let finding = PrivacyScreen.screen(text, names: names) else { return }
        try tx.blankInboundText(context.record.id)
        try tx.append(EventRecord(at: context.now, kind: "privacy.refused", unitID: context.unit.id, memberID: sender,
                                  data: ["command": context.command.id, "finding": finding == .idCardNumber ? "id_card" : "name"]))
        switch finding {
        case .idCardNumber:
            throw Refusal(zh: "消息中含有身份证号码，机器人没有处理也没有保存。为保护青少年隐私，请不要在群里发送身份证号，去掉后重新发送。",
                          en: "The message contains an ID-card number; the bot neither handled nor kept it. To protect young people's privacy, never post ID numbers in a group; remove it and send again.")
        case .registeredName:
            throw Refusal(zh: "消息中含有青少年登记名单里的姓名，机器人没有处理也没有保存。为保护未成年人隐私，请改用“网格内一名14-17岁青少年”等描述后重新发送。",
                          en: "The message names someone from the youth registry; the bot neither handled nor kept it. To protect minors, describe the person instead (e.g. “a 14-17 year old in this grid”) and send again.")
        }
    }
}
