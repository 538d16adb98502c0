import Foundation

/// The fuzz targets: the command parser and one per platform decoder.
///
/// Every target takes raw bytes. The first byte picks a *mode* (how the bytes are turned into a
/// request: signed or encrypted with the test credentials so the fuzzer reaches the parsing code
/// behind the signature, or sent unsigned, with odd headers and so on); the rest is the payload.
/// The same bodies run under libFuzzer (`Fuzz/`, `scripts/fuzz`) and in `swift test` with a
/// seeded generator, so a crash found by one is reproduced by the other.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case parser, generic, wecom, dingtalk, feishu

    /// Runs one input: how it was handled, or the invariant it broke.
    public func check(_ input: [UInt8]) -> Verdict {
        let mode = input.first ?? 0
        let payload = Array(input.dropFirst())
        switch self {
        case .parser: return ParserHarness.shared.check(mode: mode, payload: payload)
        case .generic: return DecoderHarness.generic(mode: mode, payload: payload)
        case .wecom: return DecoderHarness.wecom(mode: mode, payload: payload)
        case .dingtalk: return DecoderHarness.dingtalk(mode: mode, payload: payload)
        case .feishu: return DecoderHarness.feishu(mode: mode, payload: payload)
        }
    }

    /// The libFuzzer body: runs one input and traps on a broken invariant, so the fuzzer keeps
    /// the input as a crash artifact.
    public func run(_ input: [UInt8]) {
        if case .violated(let violation) = check(input) {
            fatalError("\(rawValue): \(violation)")
        }
    }
}

/// How one input was handled.
public enum Verdict: Sendable, Equatable {
    /// Handled well; the summary says how: `message`, `answer`, `ignored`, `refused 401`,
    /// `command task`, `not a command`, `parse error`.
    case handled(String)
    case violated(InvariantViolation)
}

/// A broken invariant: what was expected and what came out, for the crash report.
public struct InvariantViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
