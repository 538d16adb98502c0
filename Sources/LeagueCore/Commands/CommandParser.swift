/// A chat message turned into a command.
public struct ParsedCommand: Sendable, Hashable {
    /// The catalogue id: `task`, `ack`, `report`, …
    public var id: String
    /// The sub-command id (`start`, `end`, `publish`, …), if the command has them.
    public var sub: String?
    public var flags: Set<String>
    /// `@` words, without the `@`.
    public var targets: [String]
    /// Named slots: refs by letter (`T` → `12`), words by name.
    public var args: [String: String]
    /// The free text, trimmed.
    public var text: String

    public init(id: String, sub: String? = nil, flags: Set<String> = [], targets: [String] = [], args: [String: String] = [:], text: String = "") {
        self.id = id
        self.sub = sub
        self.flags = flags
        self.targets = targets
        self.args = args
        self.text = text
    }

    /// The number of a ref slot (`T-12` → 12).
    public func ref(_ letter: String) -> Int? { args[letter].flatMap { Int($0) } }
}

/// Why a message that looked like a command was not understood.
public enum ParseError: Error, Sendable, Hashable {
    /// `/xyz`: no such command.
    case unknownCommand(String)
    /// The command is known but its arguments are wrong; `reason` says what is wrong.
    case badArguments(commandID: String, reason: Reason)

    public enum Reason: Error, Sendable, Hashable {
        case missingRef(String)
        case badRef(String)
        case missingWord(String)
        case missingText
        case unexpected(String)
        case unknownSubcommand(String?)
    }
}

/// The outcome of parsing one message.
public enum ParseResult: Sendable, Hashable {
    case command(ParsedCommand)
    /// Ordinary chat: ignored.
    case notACommand
    case error(ParseError)
}

/// Turns normalised chat text into commands, driven entirely by the catalogue.
public struct CommandParser: Sendable {
    public let catalogue: [CommandSpec]
    /// Plain phrases that acknowledge without a prefix (`收到`, `已收到`).
    public let ackPhrases: [String]
    public let normalizer: Normalizer
    private let namesLongestFirst: [(name: String, spec: CommandSpec)]
    /// Each command's flags by lower-cased name (`紧急` → `urgent`), made once.
    private let flagsByName: [String: [String: String]]

    public init(catalogue: [CommandSpec], ackPhrases: [String], botNames: [String]) {
        self.catalogue = catalogue
        self.ackPhrases = ackPhrases.map(Normalizer.halfWidth).sorted { $0.count > $1.count }
        self.normalizer = Normalizer(botNames: botNames)
        var names: [(String, CommandSpec)] = []
        for spec in catalogue {
            for name in spec.names.all { names.append((Normalizer.halfWidth(name), spec)) }
        }
        self.namesLongestFirst = names.sorted { $0.0.count > $1.0.count }
        var flagsByName: [String: [String: String]] = [:]
        for spec in catalogue {
            var byName: [String: String] = [:]
            for (flag, flagNames) in (spec.flags ?? [:]).sorted(by: { $0.key < $1.key }) {
                for name in flagNames where byName[name.lowercased()] == nil { byName[name.lowercased()] = flag }
            }
            flagsByName[spec.id] = byName
        }
        self.flagsByName = flagsByName
    }

    public func spec(_ id: String) -> CommandSpec? { catalogue.first { $0.id == id } }

    /// Finds a command by any of its names (for `/帮助 任务`).
    public func spec(named name: String) -> CommandSpec? {
        let clean = Normalizer.halfWidth(name).trimmingWhitespace().trimmingPrefix(["/", "#"])
        return namesLongestFirst.first { $0.name.lowercased() == clean.lowercased() }?.spec
    }

    /// Parses one raw chat message.
    /// - Parameter mentionsBot: the platform said the bot was @-mentioned (its mention already removed).
    public func parse(_ raw: String, mentionsBot: Bool = false) -> ParseResult {
        let normalized = normalizer.normalize(raw)
        var text = normalized.text
        let addressed = normalized.addressedToBot || mentionsBot
        var prefixed = false
        if let first = text.first, first == "/" || first == "#" {
            prefixed = true
            text = String(text.dropFirst()).trimmingWhitespace()
        }
        if !prefixed, let ack = plainAcknowledgement(text) {
            return .command(ack)
        }
        guard prefixed || addressed else { return .notACommand }
        guard !text.isEmpty else {
            return addressed && !prefixed ? .command(ParsedCommand(id: "help")) : .error(.unknownCommand(""))
        }
        guard let (spec, rest) = matchCommand(text) else {
            return .error(.unknownCommand(String(text.words().first ?? text).prefix(20).description))
        }
        do {
            return .command(try parseArguments(spec, rest))
        } catch {
            return .error(.badArguments(commandID: spec.id, reason: error))
        }
    }

    /// `收到`, `收到！`, `已收到 T-3`, `收到T3`: an acknowledgement typed as plain chat.
    func plainAcknowledgement(_ text: String) -> ParsedCommand? {
        let trimmed = text.trimmingTrailing(Self.closingPunctuation)
        for phrase in ackPhrases where trimmed.hasPrefix(phrase) {
            let rest = String(trimmed.dropFirst(phrase.count)).trimmingWhitespace()
                .trimmingPrefix(Self.separatorPunctuation).trimmingWhitespace()
            if rest.isEmpty { return ParsedCommand(id: "ack") }
            if let number = Self.refNumber(rest, letter: "T") { return ParsedCommand(id: "ack", args: ["T": number]) }
        }
        return nil
    }

    static let closingPunctuation: Set<Character> = ["!", "。", ".", "~", "～", "了", "啦", " ", "👌", "👍", "！"]
    static let separatorPunctuation: [String] = [",", "，", ":", "：", "、"]

    private func matchCommand(_ text: String) -> (CommandSpec, Substring)? {
        let lower = text.lowercased()
        for (name, spec) in namesLongestFirst {
            let lname = name.lowercased()
            guard lower.hasPrefix(lname) else { continue }
            let rest = text.dropFirst(name.count)
            // A Latin name must end at a word boundary (`/taskx` is not `/task`); a Chinese one need not.
            if let next = rest.first, name.last?.isASCII == true, next.isLetter || next.isNumber { continue }
            return (spec, rest)
        }
        return nil
    }

    private func parseArguments(_ spec: CommandSpec, _ rest: Substring) throws(ParseError.Reason) -> ParsedCommand {
        var cursor = Cursor(rest)
        var command = ParsedCommand(id: spec.id)
        let flags = flagsByName[spec.id] ?? [:]
        try fill(&command, slots: spec.args, flags: flags, cursor: &cursor, spec: spec)
        if let subcommands = spec.subcommands, !subcommands.isEmpty {
            let word = cursor.peekWord()
            let named = word.flatMap { w in subcommands.first { $0.names.contains { $0.lowercased() == w.lowercased() } } }
            let chosen: CommandSpec.Subcommand
            if let named {
                cursor.takeWord()
                chosen = named
            } else if let fallback = subcommands.first(where: { $0.names.isEmpty }) {
                chosen = fallback
            } else {
                throw .unknownSubcommand(word)
            }
            command.sub = chosen.id
            try fill(&command, slots: chosen.args, flags: flags, cursor: &cursor, spec: spec)
        }
        cursor.skipFlags(flags, into: &command.flags)
        if let leftover = cursor.peekWord() { throw .unexpected(leftover) }
        return command
    }

    private func fill(_ command: inout ParsedCommand, slots: [String], flags: [String: String], cursor: inout Cursor, spec: CommandSpec) throws(ParseError.Reason) {
        for raw in slots {
            guard let slot = ArgumentSlot(raw) else { continue }
            cursor.skipFlags(flags, into: &command.flags)
            switch slot {
            case .flag:
                continue
            case .targets:
                while let word = cursor.peekWord(), word.hasPrefix("@"), word.count > 1 {
                    cursor.takeWord()
                    command.targets.append(String(word.dropFirst()))
                    cursor.skipFlags(flags, into: &command.flags)
                }
            case .ref(let letter, let optional):
                if let word = cursor.peekWord(), let number = Self.refNumber(word, letter: letter) {
                    cursor.takeWord()
                    command.args[letter] = number
                } else if let word = cursor.peekWord(), Self.looksLikeRef(word, letter: letter) {
                    throw .badRef(word)
                } else if !optional {
                    throw .missingRef(letter)
                }
            case .word(let name, let optional):
                if let word = cursor.peekWord() {
                    cursor.takeWord()
                    command.args[name] = word
                } else if !optional {
                    throw .missingWord(name)
                }
            case .text(let optional):
                let text = cursor.takeRest()
                if text.isEmpty && !optional { throw .missingText }
                command.text = text
            }
        }
    }

    /// `T-12`, `t12`, `T－12` → `12`; nil when not a ref of that letter or out of range.
    static func refNumber(_ word: String, letter: String) -> String? {
        let upper = word.uppercased()
        guard upper.hasPrefix(letter.uppercased()) else { return nil }
        var digits = upper.dropFirst(letter.count)
        if digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(digits), value > 0
        else { return nil }
        return String(value)
    }

    static func looksLikeRef(_ word: String, letter: String) -> Bool {
        let upper = word.uppercased()
        return upper.hasPrefix(letter.uppercased() + "-") || (upper.hasPrefix(letter.uppercased()) && upper.dropFirst().first?.isNumber == true)
    }
}

/// Reads words off the front of the argument text, keeping the rest verbatim.
struct Cursor {
    private var rest: Substring

    init(_ text: Substring) { self.rest = text }

    private mutating func skipSpace() {
        rest = rest.drop(while: { $0.isWhitespace })
    }

    mutating func peekWord() -> String? {
        skipSpace()
        guard !rest.isEmpty else { return nil }
        return String(rest.prefix(while: { !$0.isWhitespace }))
    }

    mutating func takeWord() {
        skipSpace()
        rest = rest.drop(while: { !$0.isWhitespace })
    }

    mutating func takeRest() -> String {
        let text = String(rest).trimmingWhitespace()
        rest = rest[rest.endIndex...]
        return text
    }

    /// Takes the flags at the front (`flags`: flag by lower-cased name).
    mutating func skipFlags(_ flags: [String: String], into set: inout Set<String>) {
        guard !flags.isEmpty else { return }
        while let word = peekWord() {
            guard let flag = flags[word.lowercased()] else { return }
            takeWord()
            set.insert(flag)
        }
    }
}

extension String {
    /// The string without any of the given prefixes at its start.
    func trimmingPrefix(_ prefixes: [String]) -> String {
        var text = self
        var changed = true
        while changed {
            changed = false
            for prefix in prefixes where text.hasPrefix(prefix) {
                text = String(text.dropFirst(prefix.count))
                changed = true
            }
        }
        return text
    }

    func trimmingTrailing(_ characters: Set<Character>) -> String {
        var text = self
        while let last = text.last, characters.contains(last) { text.removeLast() }
        return text
    }
}
