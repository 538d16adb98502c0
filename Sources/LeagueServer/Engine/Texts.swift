import Foundation
import LeagueConfig
import LeagueCore

extension Refusal {
    /// "You may not <what> (needs role: …)", with the roles that would do.
    static func needsRole(_ what: String, _ whatEn: String, _ roles: [Role]) -> Refusal {
        Refusal(
            zh: "您没有权限\(what)（需要角色：\(roles.map(Texts.roleName).joined(separator: "、"))）。",
            en: "You may not \(whatEn) (needs role: \(roles.map(\.rawValue).joined(separator: ", "))).")
    }
}

/// The bot's own sentences that are not tied to one policy.
public enum Texts {
    public static func roleName(_ role: Role) -> String {
        switch role {
        case .admin: return "管理员"
        case .cadre: return "团干部"
        case .supervisor: return "督导"
        }
    }

    /// The list of commands for /帮助.
    public static func commandList(_ catalogue: [CommandSpec], language: Language, platformHint: String) -> String {
        var lines = [language.pick("LeagueOps 团务助手 · 可用命令：", "LeagueOps · commands:")]
        for spec in catalogue {
            lines.append("\(spec.syntax.text(language)) — \(firstSentence(spec.help.text(language)))")
        }
        lines.append(
            language.pick(
                "收到任务通知后\(platformHint)。发送 /帮助 命令名 查看详细用法，例如 /帮助 任务。",
                "When a task notice arrives, \(platformHint). Send /help <command> for details, e.g. /help task."))
        return lines.joined(separator: "\n")
    }

    /// One command's help: syntax, text and examples.
    public static func help(for spec: CommandSpec, language: Language) -> String {
        var lines = [language.pick("用法：", "Usage: ") + spec.syntax.text(language), spec.help.text(language)]
        let names = language == .zh ? spec.names.zh + spec.names.en : spec.names.en + spec.names.zh
        if names.count > 1 { lines.append(language.pick("别名：", "Also: ") + names.dropFirst().map { "/" + $0 }.joined(separator: " ")) }
        let examples = spec.examples.prefix(3).map(\.text)
        if !examples.isEmpty { lines.append(language.pick("示例：", "Examples: ") + examples.joined(separator: "  |  ")) }
        return lines.joined(separator: "\n")
    }

    /// The reply to a message that looked like a command but was not understood.
    public static func parseError(_ error: ParseError, parser: CommandParser, language: Language) -> String {
        switch error {
        case .unknownCommand(let word):
            let known = parser.catalogue.map { "/" + (language == .zh ? $0.names.zh.first ?? $0.id : $0.names.en.first ?? $0.id) }.joined(separator: " ")
            return language.pick(
                "没有“\(word)”这个命令。可用命令：\(known)。发送 /帮助 查看用法。",
                "There is no command “\(word)”. Commands: \(known). Send /help for usage."
            )
        case .badArguments(let id, let reason):
            let syntax = parser.spec(id)?.syntax.text(language) ?? id
            let what: String
            switch reason {
            case .missingRef(let letter):
                what = language.pick("缺少编号（例如 \(letter)-12）", "the id is missing (like \(letter)-12)")
            case .badRef(let word):
                what = language.pick("“\(word)”不是有效的编号", "“\(word)” is not a valid id")
            case .missingWord(let name):
                what = language.pick("缺少\(slotName(name, .zh))", "the \(slotName(name, .en)) is missing")
            case .missingText:
                what = language.pick("缺少内容", "the text is missing")
            case .unexpected(let word):
                what = language.pick("多余的内容“\(word)”", "unexpected “\(word)”")
            case .unknownSubcommand(let word):
                let subs = parser.spec(id)?.subcommands?.compactMap(\.names.first).joined(separator: "、") ?? ""
                what =
                    word.map { language.pick("不认识“\($0)”，可选：\(subs)", "unknown “\($0)”; choose one of: \(subs)") }
                    ?? language.pick("请选择：\(subs)", "choose one of: \(subs)")
            }
            return language.pick("格式不对：\(what)。\n正确用法：\(syntax)", "Not understood: \(what).\nUsage: \(syntax)")
        }
    }

    static func slotName(_ name: String, _ language: Language) -> String {
        switch name {
        case "unit": return language.pick("单位", "unit")
        case "month": return language.pick("月份", "month")
        case "status": return language.pick("状态", "status")
        case "command": return language.pick("命令名", "command name")
        default: return name
        }
    }

    static func firstSentence(_ text: String) -> String {
        let stops: Set<Character> = ["。", "\n"]
        if let index = text.firstIndex(where: { stops.contains($0) }) { return String(text[..<index]) }
        if let range = text.range(of: ". ") { return String(text[..<range.lowerBound]) }
        return text
    }
}
