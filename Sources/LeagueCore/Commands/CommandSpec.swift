/// One chat command as described by its file in commands/: names, syntax, who may use it, help, examples.
///
/// The parser, the /帮助 reply and the README's command list all come from these values.
public struct CommandSpec: Sendable, Codable, Hashable {
    /// Stable id the engine dispatches on: `task`, `ack`, `report`, …
    public var id: String
    public var names: Names
    /// Argument slots in order; see `ArgumentSlot`.
    public var args: [String]
    /// Sub-commands (`/议事 开始`, `/诉求 发布 D-1`); when present, `args` applies before the sub-command word is read.
    public var subcommands: [Subcommand]?
    /// Flag words by flag name: `urgent: [紧急, urgent]`.
    public var flags: [String: [String]]?
    public var syntax: Localized
    public var help: Localized
    /// Roles allowed to use the command (any of them); empty or missing means everyone in the tree.
    public var roles: [Role]?
    /// Tiers whose members may use it; missing means every tier.
    public var tiers: [String]?
    /// Roles needed to set a flag (`urgent: [admin]`).
    public var flagRoles: [String: [Role]]?
    public var examples: [Example]
    /// Position in /帮助 and the README (lower first).
    public var order: Int?

    public struct Names: Sendable, Codable, Hashable {
        public var zh: [String]
        public var en: [String]
        public var all: [String] { zh + en }
    }

    public struct Localized: Sendable, Codable, Hashable {
        public var zh: String
        public var en: String
        public func text(_ language: Language) -> String { language.pick(zh, en) }
    }

    public struct Subcommand: Sendable, Codable, Hashable {
        public var id: String
        public var names: [String]
        public var args: [String]
    }

    /// A message and what it must parse to; a test parses every example of every file.
    public struct Example: Sendable, Codable, Hashable {
        public var text: String
        public var expect: Expectation
    }

    /// The fields of a parsed command an example checks (missing fields are not checked, except that
    /// `flags` and `targets` default to empty).
    public struct Expectation: Sendable, Codable, Hashable {
        public var sub: String?
        public var flags: [String]?
        public var targets: [String]?
        public var args: [String: String]?
        public var text: String?
    }

    enum CodingKeys: String, CodingKey {
        case id, names, args, subcommands, flags, syntax, help, roles, tiers, examples, order
        case flagRoles = "flag_roles"
    }
}

/// One argument slot of a command's `args` list. A trailing `?` makes it optional.
///
/// - `flag:NAME` — an optional flag word (words from `flags`), anywhere before the text;
/// - `targets` — zero or more `@target` words;
/// - `ref:T` / `ref:D` — an id like `T-12` (stored in `args["T"]` as `12`);
/// - `word:NAME` — one word, into `args[NAME]`;
/// - `month:NAME` — a month like `2026-11` or `11月`, into `args[NAME]` as `2026-11` / `11`;
/// - `text` — the rest of the message.
public enum ArgumentSlot: Sendable, Hashable {
    case flag(String)
    case targets
    case ref(String, optional: Bool)
    case word(String, optional: Bool)
    case text(optional: Bool)

    public init?(_ spec: String) {
        let optional = spec.hasSuffix("?")
        let body = optional ? String(spec.dropLast()) : spec
        let parts = body.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("flag", 2): self = .flag(parts[1])
        case ("targets", 1): self = .targets
        case ("ref", 2): self = .ref(parts[1], optional: optional)
        case ("word", 2): self = .word(parts[1], optional: optional)
        case ("text", 1): self = .text(optional: optional)
        default: return nil
        }
    }
}
