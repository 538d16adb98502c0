import Foundation
import LeagueConfig
import LeagueCore

/// `/帮助 [命令]`: the command list and each command's help, straight from the catalogue.
enum HelpFeature: Feature {
    static func register(commands: inout [String: CommandHandler], timers: inout [TimerKind: TimerHandler]) {
        commands["help"] = help
    }

    static func help(_ c: CommandContext) throws {
        let parser = c.engine.parser
        let word = c.command.args["command"] ?? c.command.text
        if !word.isEmpty {
            guard let spec = parser.spec(named: word) else {
                try c.reply(Texts.parseError(.unknownCommand(word), parser: parser, language: c.language))
                return
            }
            try c.reply(Texts.help(for: spec, language: c.language))
            return
        }
        try c.reply(Texts.commandList(parser.catalogue, language: c.language, platformHint: c.engine.ackHint(c.unit.group?.platform ?? "generic")))
    }
}
