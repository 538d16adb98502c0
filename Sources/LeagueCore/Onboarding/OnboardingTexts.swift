import Foundation

/// Onboarding's sentences in chat (/绑定, /解绑, /登记), Chinese and English side by side. Pure.
public enum OnboardingTexts {
    /// A chat was bound with a code: the unit's full path and what the group will receive.
    /// `ackHint`: how to acknowledge on the group's platform.
    public static func bound(path: String, hasParent: Bool, hasChildren: Bool, ackHint: String, language: Language) -> String {
        var zh = ["✅ 本群已绑定到：\(path)"]
        var en = ["✅ This group is now bound to: \(path)"]
        if hasParent {
            zh.append("本群将收到上级派发的任务通知（\(ackHint)）、未确认的提醒和议事日提醒。")
            en.append("It will receive task notices from above (\(ackHint)), reminders for late acknowledgements and deliberation-day reminders.")
        }
        if hasChildren {
            zh.append("下级群超时未确认时会在本群通报；可用 /任务 向下级派发。")
            en.append("Late groups below are reported here; send /task to dispatch to them.")
        }
        zh.append("请花名册上的成员各自发送“/登记 姓名 手机号”完成登记。发送 /帮助 查看全部命令。")
        en.append("Members on the roster: each send “/register name mobile” once. Send /help for every command.")
        return language.pick(zh.joined(separator: "\n"), en.joined(separator: "\n"))
    }

    public static func bindingFailed(_ language: Language) -> String {
        language.pick("绑定时出错，请稍后再试。", "Binding failed; please try again later.")
    }

    /// `/绑定` in a bound chat: which unit, and whether org.yaml or a code bound it.
    public static func binding(path: String, fromFile: Bool, language: Language) -> String {
        let source = source(fromFile: fromFile, language: language)
        return language.pick("本群绑定的单位：\(path)\(source)", "This group is bound to: \(path)\(source)")
    }

    /// How a group was bound: written in org.yaml, or with a code.
    public static func source(fromFile: Bool, language: Language) -> String {
        fromFile ? language.pick("（写在 org.yaml 中）", " (written in org.yaml)") : language.pick("（用绑定码绑定）", " (bound with a code)")
    }

    /// `/解绑`: the unit is free to be bound to another group.
    public static func unbound(path: String, language: Language) -> String {
        language.pick(
            "已解除\(path)与群的绑定。该单位可以用新的绑定码绑定到别的群（请向区团委要新码）。",
            "\(path) is no longer bound to its group. It can be bound to another group with a new code (ask the district office).")
    }

    /// `/登记` from someone registered already; `masked`: the mobile as 138****0000.
    public static func alreadyRegistered(name: String, masked: String, language: Language) -> String {
        language.pick("您已经登记过了：\(name)（\(masked)）。", "You are registered already: \(name) (\(masked)).")
    }

    public static func registered(name: String, masked: String, path: String, language: Language) -> String {
        language.pick(
            "✅ 登记成功：\(name)（\(masked)），\(path)。今后您在群里的“收到”和命令都会计入。",
            "✅ Registered: \(name) (\(masked)), \(path). Your 收到 and commands count from now on.")
    }
}
