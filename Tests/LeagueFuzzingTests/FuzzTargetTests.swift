import Foundation
import LeagueCore
import LeagueFuzzing
import LeagueTestSupport
import Testing

/// The fuzz targets in `swift test`: each target's seed corpus, then a bounded run of seeded
/// random and mutated inputs through the same bodies libFuzzer runs (Fuzz/, scripts/fuzz).
struct FuzzTargetTests {
    static let corpusRoot = repositoryRoot.appendingPathComponent("Fuzz/Corpus")

    /// The seed inputs of a target, by file name.
    static func seeds(_ target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let folder = corpusRoot.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    /// What the seeds must reach, so the fuzzer starts behind the signatures and the crypto.
    static func expectedVerdicts(_ target: FuzzTarget) -> [Verdict] {
        switch target {
        case .parser: return [.handled("command task"), .handled("command ack"), .handled("parse error")]
        case .generic: return [.handled("message"), .handled("refused 401"), .handled("refused 400")]
        case .wecom, .feishu: return [.handled("message"), .handled("answer"), .handled("ignored"), .handled("refused 400")]
        case .dingtalk: return [.handled("message"), .handled("refused 401"), .handled("refused 400")]
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedCorpusKeepsEveryInvariant(_ target: FuzzTarget) throws {
        let seeds = try Self.seeds(target)
        #expect(!seeds.isEmpty)
        var reached: [Verdict] = []
        for seed in seeds {
            let verdict = target.check(seed.bytes)
            if case .violated(let violation) = verdict { Issue.record("\(target.rawValue)/\(seed.name): \(violation)") }
            reached.append(verdict)
        }
        for expected in Self.expectedVerdicts(target) {
            #expect(reached.contains(expected), "no seed of \(target.rawValue) reaches \(expected); reached: \(reached)")
        }
    }

    /// A few seconds per target: random bytes under every mode, and mutated seeds.
    @Test(arguments: FuzzTarget.allCases)
    func seededRandomInputKeepsEveryInvariant(_ target: FuzzTarget) throws {
        let seeds = try Self.seeds(target).map(\.bytes)
        var random = SplitMix(seed: 2026)
        var failures = 0
        for round in 0..<3_000 where failures < 5 {
            let input: [UInt8]
            if round % 3 == 0 {
                input = [UInt8(truncatingIfNeeded: round / 3)] + random.bytes(maxLength: 300)
            } else {
                input = random.mutate(seeds[round % seeds.count])
            }
            if case .violated(let violation) = target.check(input) {
                failures += 1
                Issue.record("\(target.rawValue) round \(round): \(violation)\ninput (base64): \(Data(input).base64EncodedString())")
            }
        }
    }
}
