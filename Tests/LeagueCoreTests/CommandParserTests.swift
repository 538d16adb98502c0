import Foundation
import LeagueConfig
import LeagueCore
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The real catalogue from commands/.
func loadCatalogue() -> [CommandSpec] {
    var problems: [ConfigProblem] = []
    let specs = CatalogueLoader.load(directory: repoRoot.appendingPathComponent("commands").path, problems: &problems)
    #expect(problems.isEmpty, "catalogue problems: \(problems)")
    return specs
}

func makeParser() -> CommandParser {
    CommandParser(catalogue: loadCatalogue(), ackPhrases: ["收到", "已收到"], botNames: ["团务助手", "LeagueOps"])
}

struct CommandParserTests {
    let parser = makeParser()

    @Test func everyCatalogueExampleParsesToItsExpectation() throws {
        let catalogue = parser.catalogue
        #expect(catalogue.count >= 8)
        var checked = 0
        for spec in catalogue {
            #expect(!spec.examples.isEmpty, "\(spec.id) has no examples")
            for example in spec.examples {
                guard case .command(let command) = parser.parse(example.text) else {
                    Issue.record("\(spec.id): “\(example.text)” did not parse: \(parser.parse(example.text))")
                    continue
                }
                #expect(command.id == spec.id, "“\(example.text)” parsed as \(command.id), expected \(spec.id)")
                let expect = example.expect
                if let sub = expect.sub { #expect(command.sub == sub, "“\(example.text)”") }
                #expect(command.flags == Set(expect.flags ?? []), "“\(example.text)” flags")
                #expect(command.targets == (expect.targets ?? []), "“\(example.text)” targets")
                if let args = expect.args { #expect(command.args == args, "“\(example.text)” args") }
                if let text = expect.text { #expect(command.text == text, "“\(example.text)” text") }
                checked += 1
            }
        }
        #expect(checked >= 20)
    }

    @Test func fullWidthFormsAndBotMentionAreNormalised() {
        #expect(parser.parse("＠团务助手　／任务　紧急　＠全部　测试１２３") == .command(ParsedCommand(id: "task", flags: ["urgent"], targets: ["全部"], text: "测试123")))
        #expect(parser.parse("＃进度　Ｔ－３") == .command(ParsedCommand(id: "status", args: ["T": "3"])))
        #expect(parser.parse("@LeagueOps help") == .command(ParsedCommand(id: "help")))
        #expect(parser.parse("@LeagueOps /help task") == .command(ParsedCommand(id: "help", args: ["command": "task"])))
    }

    @Test func plainAcknowledgementsNeedNoPrefix() {
        for text in ["收到", "收到！", "收到!", "已收到", "收到了", "收到。", "  收到  ", "收到，T-4", "收到 @团务助手"] {
            guard case .command(let command) = parser.parse(text) else {
                Issue.record("“\(text)” was not an acknowledgement")
                continue
            }
            #expect(command.id == "ack", "“\(text)”")
        }
        #expect(parser.parse("收到 T-4") == .command(ParsedCommand(id: "ack", args: ["T": "4"])))
        #expect(parser.parse("收到请回复") == .notACommand)
        #expect(parser.parse("我还没收到") == .notACommand)
    }

    @Test func ordinaryChatIsIgnored() {
        #expect(parser.parse("今天天气不错") == .notACommand)
        #expect(parser.parse("任务 这句话没有斜杠") == .notACommand)
        #expect(parser.parse("") == .notACommand)
    }

    @Test func malformedCommandsSayWhatIsWrong() {
        #expect(parser.parse("/认领") == .error(.badArguments(commandID: "claim", reason: .missingRef("T"))))
        #expect(parser.parse("/认领 T-abc") == .error(.badArguments(commandID: "claim", reason: .badRef("T-abc"))))
        #expect(parser.parse("/认领 T-99999999999") == .error(.badArguments(commandID: "claim", reason: .badRef("T-99999999999"))))
        #expect(parser.parse("/认领 T--1") == .error(.badArguments(commandID: "claim", reason: .badRef("T--1"))))
        #expect(parser.parse("/认领 T-5 多余") == .error(.badArguments(commandID: "claim", reason: .unexpected("多余"))))
        #expect(parser.parse("/任务") == .error(.badArguments(commandID: "task", reason: .missingText)))
        #expect(parser.parse("/任务 紧急 @全部") == .error(.badArguments(commandID: "task", reason: .missingText)))
        #expect(parser.parse("/不存在的命令 x") == .error(.unknownCommand("不存在的命令")))
        #expect(parser.parse("/taskx hello") == .error(.unknownCommand("taskx")))
    }

    @Test func chineseCommandNamesNeedNoSpaceBeforeTheText() {
        #expect(parser.parse("/任务今晚开会") == .command(ParsedCommand(id: "task", text: "今晚开会")))
    }

    @Test func hostileInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("/#＠@ 　收到任务T-0123456789紧急全部\u{0}\u{FFFF}\u{1F600}abc\n\t，。！")
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<80, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            _ = parser.parse(text)
        }
        _ = parser.parse(String(repeating: "@全部 ", count: 5000) + "/任务")
        _ = parser.parse("/任务 " + String(repeating: "@x ", count: 5000) + "内容")
    }
}
