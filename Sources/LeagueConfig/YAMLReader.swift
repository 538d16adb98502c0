import Foundation
import LeagueCore
import Yams

/// Reads a YAML file node by node, collecting problems with their line instead of stopping at the first.
final class YAMLReader {
    let file: String
    private(set) var problems: [ConfigProblem] = []
    let environment: [String: String]

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    /// Parses the file's text; a syntax error becomes a problem with its line.
    func root(text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                problem(line: nil, "the file is empty")
                return nil
            }
            return node
        } catch let error as YamlError {
            problem(line: Self.line(of: error), "is not valid YAML: \(Self.summary(of: error))")
            return nil
        } catch {
            problem(line: nil, "is not valid YAML: \(error)")
            return nil
        }
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.joined(separator: " ")
        default: return String(describing: error)
        }
    }

    func problem(line: Int?, _ message: String) {
        problems.append(ConfigProblem(file: file, line: line, message: message))
    }

    func problem(_ node: Node?, _ message: String) {
        problem(line: node?.mark?.line, message)
    }

    /// The mapping at a node, or a problem when it is something else.
    func mapping(_ node: Node?, _ what: String) -> Node.Mapping? {
        guard let node else { return nil }
        guard let mapping = node.mapping else {
            problem(node, "\(what) must be a mapping (key: value)")
            return nil
        }
        return mapping
    }

    /// The mapping under `key` with its keys checked against `allowed`.
    func section(_ parent: Node.Mapping?, _ key: String, allowed: Set<String>) -> Node.Mapping? {
        guard let map = mapping(parent?[key], key) else { return nil }
        checkKeys(map, allowed: allowed, key)
        return map
    }

    func sequence(_ node: Node?, _ what: String) -> Node.Sequence? {
        guard let node else { return nil }
        guard let sequence = node.sequence else {
            problem(node, "\(what) must be a list")
            return nil
        }
        return sequence
    }

    func string(_ node: Node?, _ what: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            problem(node, "\(what) must be a single value")
            return nil
        }
        return scalar.string
    }

    func strings(_ node: Node?, _ what: String) -> [String]? {
        guard let node else { return nil }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else {
            problem(node, "\(what) must be a list of values")
            return nil
        }
        return sequence.compactMap { string($0, what) }
    }

    func int(_ node: Node?, _ what: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, what) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            problem(node, "\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not “\(text)”")
            return nil
        }
        return value
    }

    func double(_ node: Node?, _ what: String, range: ClosedRange<Double>) -> Double? {
        guard let text = string(node, what) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            problem(node, "\(what) must be a number from \(range.lowerBound) to \(range.upperBound), not “\(text)”")
            return nil
        }
        return value
    }

    /// One of `words`, in any case; returned lower-cased.
    func choice(_ node: Node?, _ what: String, _ words: [String]) -> String? {
        guard let text = string(node, what) else { return nil }
        guard words.contains(text.lowercased()) else {
            problem(node, "\(what) must be \(words.joined(separator: " or ")), not “\(text)”")
            return nil
        }
        return text.lowercased()
    }

    /// A time zone name like `Asia/Shanghai`.
    func timeZone(_ node: Node?, _ what: String) -> TimeZone? {
        guard let name = string(node, what) else { return nil }
        guard let zone = TimeZone(identifier: name) else {
            problem(node, "\(what) “\(name)” is not a known time zone; write it like Asia/Shanghai")
            return nil
        }
        return zone
    }

    /// A duration like `90s`, `3m`, `1h`.
    func duration(_ node: Node?, _ what: String) -> Double? {
        guard let text = string(node, what) else { return nil }
        guard let seconds = DurationText.seconds(text), seconds > 0 else {
            problem(node, "\(what): duration “\(text)” is not parseable; write it like 90s, 3m or 1h")
            return nil
        }
        return seconds
    }

    /// A secret: a literal, or `env:NAME` read from the environment.
    func secret(_ node: Node?, _ what: String) -> String? {
        guard let text = string(node, what) else { return nil }
        guard text.hasPrefix("env:") else { return text }
        let name = String(text.dropFirst(4))
        guard let value = environment[name], !value.isEmpty else {
            problem(node, "\(what): secret missing — set the environment variable \(name) (or write the value itself)")
            return nil
        }
        return value
    }

    /// Flags keys the reader does not know, so a typo does not pass silently.
    func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, _ what: String) {
        for (key, _) in mapping {
            guard let name = key.string, !allowed.contains(name) else { continue }
            problem(key, "unknown key “\(name)” in \(what) (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }
}
