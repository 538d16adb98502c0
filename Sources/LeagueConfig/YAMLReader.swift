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

    /// What `get` finds at a node, or `message` as a problem on its line when it finds nothing.
    private func typed<T>(_ node: Node?, _ get: (Node) -> T?, _ message: @autoclosure () -> String) -> T? {
        guard let node else { return nil }
        guard let value = get(node) else {
            problem(node, message())
            return nil
        }
        return value
    }

    /// The node's single value as `parse` reads it, or `message(text)` as a problem on its line.
    func parsed<T>(_ node: Node?, _ what: String, _ parse: (String) -> T?, _ message: (String) -> String) -> T? {
        guard let text = string(node, what) else { return nil }
        return typed(node, { _ in parse(text) }, message(text))
    }

    /// The mapping at a node, or a problem when it is something else.
    func mapping(_ node: Node?, _ what: String) -> Node.Mapping? { typed(node, \.mapping, "\(what) must be a mapping (key: value)") }

    /// The mapping under `key` with its keys checked against `allowed`.
    func section(_ parent: Node.Mapping?, _ key: String, allowed: Set<String>) -> Node.Mapping? {
        guard let map = mapping(parent?[key], key) else { return nil }
        checkKeys(map, allowed: allowed, key)
        return map
    }

    func sequence(_ node: Node?, _ what: String) -> Node.Sequence? { typed(node, \.sequence, "\(what) must be a list") }

    func string(_ node: Node?, _ what: String) -> String? { typed(node, \.scalar?.string, "\(what) must be a single value") }

    func strings(_ node: Node?, _ what: String) -> [String]? {
        guard let node else { return nil }
        if let scalar = node.scalar { return [scalar.string] }
        return typed(node, \.sequence, "\(what) must be a list of values")?.compactMap { string($0, what) }
    }

    func int(_ node: Node?, _ what: String, range: ClosedRange<Int>) -> Int? {
        parsed(node, what, { Int($0).flatMap { range.contains($0) ? $0 : nil } }) {
            "\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not “\($0)”"
        }
    }

    func double(_ node: Node?, _ what: String, range: ClosedRange<Double>) -> Double? {
        parsed(node, what, { Double($0).flatMap { range.contains($0) ? $0 : nil } }) {
            "\(what) must be a number from \(range.lowerBound) to \(range.upperBound), not “\($0)”"
        }
    }

    /// One of `words`, in any case; returned lower-cased.
    func choice(_ node: Node?, _ what: String, _ words: [String]) -> String? {
        parsed(node, what, { words.contains($0.lowercased()) ? $0.lowercased() : nil }) {
            "\(what) must be \(words.joined(separator: " or ")), not “\($0)”"
        }
    }

    /// A time zone name like `Asia/Shanghai`.
    func timeZone(_ node: Node?, _ what: String) -> TimeZone? {
        parsed(node, what, TimeZone.init(identifier:)) { "\(what) “\($0)” is not a known time zone; write it like Asia/Shanghai" }
    }

    /// A duration like `90s`, `3m`, `1h`.
    func duration(_ node: Node?, _ what: String) -> Double? {
        parsed(node, what, { DurationText.seconds($0).flatMap { $0 > 0 ? $0 : nil } }) {
            "\(what): duration “\($0)” is not parseable; write it like 90s, 3m or 1h"
        }
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
