import Foundation
import LeagueConfig
import LeagueCore

/// The command parser target: the real catalogue from commands/, the payload as chat text.
struct ParserHarness: Sendable {
    /// Loaded once per process: libFuzzer calls the target millions of times.
    static let shared = ParserHarness()

    let parser: CommandParser
    /// Every command id the parser may answer with.
    let commandIDs: Set<String>

    /// commands/ of the checkout this file was compiled from.
    static let commandsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("commands").path

    init(commandsDirectory: String = ParserHarness.commandsDirectory) {
        var problems: [ConfigProblem] = []
        let catalogue = CatalogueLoader.load(directory: commandsDirectory, problems: &problems)
        guard problems.isEmpty, !catalogue.isEmpty else {
            fatalError("the parser target needs the command catalogue at \(commandsDirectory): \(problems)")
        }
        parser = CommandParser(catalogue: catalogue, ackPhrases: ["收到", "已收到"], botNames: ["团务助手", "LeagueOps"])
        commandIDs = Set(catalogue.map(\.id))
    }

    /// Mode bit 0: the platform said the bot was mentioned. The payload is the text (invalid UTF-8
    /// replaced, as every adapter's text is a Swift string).
    func check(mode: UInt8, payload: [UInt8]) -> Verdict {
        let text = String(decoding: payload, as: UTF8.self)
        switch parser.parse(text, mentionsBot: mode & 1 == 1) {
        case .notACommand:
            return .handled("not a command")
        case .command(let command):
            return Invariants.verdict(check(command), else: "command \(command.id)")
        case .error(.unknownCommand(let name)):
            let violation = name.count <= 20 ? nil : InvariantViolation("unknown-command name of \(name.count) characters echoed back")
            return Invariants.verdict(violation, else: "parse error")
        case .error(.badArguments(let commandID, _)):
            let violation = commandIDs.contains(commandID) ? nil : InvariantViolation("bad arguments for a command not in the catalogue: \(commandID)")
            return Invariants.verdict(violation, else: "parse error")
        }
    }

    /// A parsed command names a catalogue command, its refs are task numbers 1…999 999 999 and
    /// its targets are single non-empty words.
    func check(_ command: ParsedCommand) -> InvariantViolation? {
        guard commandIDs.contains(command.id) || command.id == "help" || command.id == "ack" else {
            return InvariantViolation("parsed a command that is not in the catalogue: \(command.id)")
        }
        for (slot, value) in command.args where slot.count == 1 && slot == slot.uppercased() {
            guard let number = Int(value), (1...999_999_999).contains(number), String(number) == value else {
                return InvariantViolation("ref \(slot) parsed to \(value), not a task number")
            }
        }
        for target in command.targets where target.isEmpty || target.contains(where: \.isWhitespace) {
            return InvariantViolation("target \(target.debugDescription) is not one word")
        }
        return nil
    }
}
