import Foundation
import LeagueCore
import Yams

/// Loads the command catalogue: one YAML file per chat command in commands/.
public enum CatalogueLoader {
    /// Loads every `*.yaml` file of a folder, sorted by name; appends problems.
    public static func load(directory: String, problems: inout [ConfigProblem]) -> [CommandSpec] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        } catch {
            problems.append(ConfigProblem(file: directory, line: nil, message: "cannot read the command catalogue folder (set `commands:` in leagueops.yaml)"))
            return []
        }
        var sources: [(path: String, text: String)] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                problems.append(ConfigProblem(file: path, line: nil, message: "cannot read the file"))
                continue
            }
            sources.append((path, text))
        }
        return load(sources: sources, problems: &problems)
    }

    /// The catalogue built into the binary (commands/ of the source tree when it was built).
    public static func loadBuiltIn(problems: inout [ConfigProblem]) -> [CommandSpec] {
        load(sources: DefaultCatalogue.files.map { ("(built in) commands/\($0.name)", $0.text) }, problems: &problems)
    }

    /// Decodes and checks catalogue files given as (path for messages, text); appends problems.
    public static func load(sources: [(path: String, text: String)], problems: inout [ConfigProblem]) -> [CommandSpec] {
        var specs: [CommandSpec] = []
        var names: [String: String] = [:]
        for (path, text) in sources {
            let file = (path as NSString).lastPathComponent
            do {
                let spec = try YAMLDecoder().decode(CommandSpec.self, from: text)
                for slot in spec.args + (spec.subcommands ?? []).flatMap(\.args) where ArgumentSlot(slot) == nil {
                    problems.append(ConfigProblem(file: path, line: nil, message: "unknown argument slot “\(slot)” (use flag:NAME, targets, ref:T, word:NAME, text, with ? for optional)"))
                }
                for name in spec.names.all {
                    if let other = names[name.lowercased()] {
                        problems.append(ConfigProblem(file: path, line: nil, message: "command name “\(name)” is also used by \(other)"))
                    }
                    names[name.lowercased()] = file
                }
                specs.append(spec)
            } catch let error as YamlError {
                problems.append(ConfigProblem(file: path, line: YAMLReader.line(of: error), message: "is not valid YAML: \(YAMLReader.summary(of: error))"))
            } catch let DecodingError.keyNotFound(key, context) {
                problems.append(ConfigProblem(file: path, line: nil, message: "missing key “\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))”"))
            } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context), let DecodingError.dataCorrupted(context) {
                problems.append(ConfigProblem(file: path, line: nil, message: "wrong value at “\(context.codingPath.map(\.stringValue).joined(separator: "."))”: \(context.debugDescription)"))
            } catch {
                problems.append(ConfigProblem(file: path, line: nil, message: "\(error)"))
            }
        }
        return specs.enumerated().sorted { ($0.element.order ?? 500, $0.offset) < ($1.element.order ?? 500, $1.offset) }.map(\.element)
    }
}
