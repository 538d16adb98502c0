/// Why the bot refused a command, told to the person in a sentence.
public struct Refusal: Error, Sendable, Hashable {
    public var zh: String
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    public func text(_ language: Language) -> String { language.pick(zh, en) }

    public static let unknownSender = Refusal(
        zh: "您还没有登记在本群所属单位，不能使用此命令。请联系管理员在 org.yaml 中登记。",
        en: "You are not registered in this group's unit, so you cannot use this command. Ask an admin to add you to org.yaml."
    )

    public static func noTask(_ id: Int) -> Refusal {
        Refusal(zh: "没有找到任务 T-\(id)。", en: "There is no task T-\(id).")
    }

    public static func notAllowed(_ what: String, _ whatEn: String) -> Refusal {
        Refusal(zh: "您没有权限\(what)。", en: "You are not allowed to \(whatEn).")
    }
}
